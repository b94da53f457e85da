// Pre-flight permission check with SelfSubjectAccessReview (every authenticated user may create
// one). A deploy that could patch but not watch would leave a release nobody is checking, so the
// mutating commands verify everything they will need before they change anything, and name what
// is missing.
import type { Kube } from './client.js';
import { classify } from './client.js';

export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** One object only (RBAC resourceNames). */
  name?: string;
  why: string;
}

const apps = (verb: string, resource: string, why: string): Permission => ({
  verb,
  group: 'apps',
  resource,
  why,
});
const core = (verb: string, resource: string, why: string, subresource?: string): Permission => ({
  verb,
  group: '',
  resource,
  why,
  ...(subresource ? { subresource } : {}),
});

/** What `deploy` and `rollback` need; optional extras (logs, events) only degrade diagnostics. */
export const ROLLOUT_PERMISSIONS: readonly Permission[] = [
  apps('get', 'deployments', 'read the current release'),
  apps('patch', 'deployments', 'set the image / restore a revision'),
  apps('list', 'deployments', 'watch the rollout'),
  apps('watch', 'deployments', 'watch the rollout'),
  apps('list', 'replicasets', 'find revisions'),
  apps('watch', 'replicasets', 'watch the rollout'),
  core('list', 'pods', 'detect failing pods'),
  core('watch', 'pods', 'detect failing pods'),
];

/** What `promote` reads in its source: the live revision, readiness and the pods' imageID. */
export const PROMOTE_SOURCE_PERMISSIONS: readonly Permission[] = [
  apps('get', 'deployments', 'read the source release'),
  apps('list', 'replicasets', 'find the live revision'),
  core('list', 'pods', "read the pods' image digests"),
];

export function describePermission(p: Permission, namespace: string): string {
  const resource = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;
  return `${p.verb} ${resource}${p.name ? ` "${p.name}"` : ''} in namespace ${namespace} (needed to ${p.why})`;
}

/** The permissions the caller lacks, in order; empty when all are granted. */
/** `get services/proxy` on the one Prometheus Service the analysis queries. */
export function prometheusProxyPermission(service: string): Permission {
  return {
    verb: 'get',
    group: '',
    resource: 'services',
    subresource: 'proxy',
    name: service,
    why: 'query Prometheus for the release analysis',
  };
}

export async function missingPermissions(
  kube: Kube,
  wanted: readonly Permission[],
  namespace: string = kube.namespace,
): Promise<Permission[]> {
  const results = await Promise.all(
    wanted.map(async (p) => {
      try {
        const review = await kube.authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                namespace,
                verb: p.verb,
                group: p.group,
                resource: p.resource,
                ...(p.subresource ? { subresource: p.subresource } : {}),
                ...(p.name ? { name: p.name } : {}),
              },
            },
          },
        });
        return review.status?.allowed ? undefined : p;
      } catch (err) {
        throw classify(err, 'checking permissions');
      }
    }),
  );
  return results.filter((p): p is Permission => p !== undefined);
}
