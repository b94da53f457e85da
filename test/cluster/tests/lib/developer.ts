// A developer's own kubeconfig: client certificate CN=<user>, O=shiftops:developers signed with the
// cluster CA, made by the CLI author's helper (cli/test-cluster/helpers.ts), so the API server
// authenticates the group from the certificate and RBAC decides for real (no impersonation).
import { userKubeconfig } from '../../../../cli/test-cluster/helpers.js';
import { DEVELOPERS_GROUP, adminConfig } from './cluster.js';

const made = new Map<string, string>();

export function developerKubeconfig(user = 'dev-alice', group = DEVELOPERS_GROUP): string {
  const key = `${user}/${group}`;
  let path = made.get(key);
  if (!path) {
    path = userKubeconfig(adminConfig(), user, group);
    if (!path) throw new Error('no cluster CA (<kubeconfig dir>/pki/ca.{crt,key}) to sign with');
    made.set(key, path);
  }
  return path;
}
