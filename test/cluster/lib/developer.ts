// Kubeconfigs for identities other than the admin: a client certificate CN=<user>, O=<group>
// signed with the cluster CA (kwokctl keeps it next to the admin kubeconfig, in pki/), so the API
// server authenticates the group from the certificate and RBAC decides for real (no impersonation).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { DEVELOPERS_GROUP, adminConfig, kubeconfigPath } from './cluster.js';

/** A kubeconfig file for CN=<user>, O=<group>; throws if the cluster CA is not there to sign. */
export function userKubeconfig(user: string, group: string): string {
  const caDir = join(dirname(kubeconfigPath()), 'pki');
  const caCrt = join(caDir, 'ca.crt');
  const caKey = join(caDir, 'ca.key');
  if (!existsSync(caCrt) || !existsSync(caKey))
    throw new Error(`no cluster CA (${caDir}/ca.{crt,key}) to sign a certificate for ${user}`);
  const dir = mkdtempSync(join(tmpdir(), 'shiftops-user-'));
  const key = join(dir, 'user.key');
  const csr = join(dir, 'user.csr');
  const crt = join(dir, 'user.crt');
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr].concat([
      '-subj',
      `/CN=${user}/O=${group}`,
    ]),
  );
  openssl(
    ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial'].concat([
      '-out',
      crt,
      '-days',
      '1',
    ]),
  );
  const cluster = adminConfig().getCurrentCluster();
  if (!cluster) throw new Error(`no current cluster in ${kubeconfigPath()}`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'test', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile },
    ],
    users: [
      {
        name: user,
        certData: readFileSync(crt).toString('base64'),
        keyData: readFileSync(key).toString('base64'),
      },
    ],
    contexts: [{ name: 'test', cluster: 'test', user }],
    currentContext: 'test',
  });
  const path = join(dir, 'kubeconfig.yaml');
  writeFileSync(path, kc.exportConfig());
  return path;
}

const made = new Map<string, string>();

/** The developers' identity (one kubeconfig per user and group, made once per test process). */
export function developerKubeconfig(user = 'dev-alice', group = DEVELOPERS_GROUP): string {
  const id = `${user}/${group}`;
  let path = made.get(id);
  if (!path) {
    path = userKubeconfig(user, group);
    made.set(id, path);
  }
  return path;
}

/** A client for a kubeconfig file (for API calls made as that identity). */
export function configFrom(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/**
 * A copy of kubeconfig `path` with the same identity: its server replaced (e.g. a proxy in
 * between), and/or one context per entry of `contexts` (name -> namespace), the first current.
 */
export function kubeconfigWith(
  path: string,
  o: { server?: string; contexts?: Record<string, string> },
): string {
  const base = configFrom(path);
  const cluster = base.getCurrentCluster();
  const user = base.getCurrentUser();
  if (!cluster || !user) throw new Error(`${path}: no current cluster and user`);
  const names = Object.entries(o.contexts ?? { test: '' });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'test', server: o.server ?? cluster.server }],
    users: [user],
    contexts: names.map(([name, namespace]) => ({
      name,
      cluster: 'test',
      user: user.name,
      ...(namespace ? { namespace } : {}),
    })),
    currentContext: names[0]![0],
  });
  const out = join(mkdtempSync(join(tmpdir(), 'shiftops-kc-')), 'kubeconfig.yaml');
  writeFileSync(out, kc.exportConfig());
  return out;
}
