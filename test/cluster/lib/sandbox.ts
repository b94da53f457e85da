// A namespace of its own for the CLI on kwok pods (09-cli-rollout, long/release-analysis-*): the
// developers Role and RoleBinding exactly as deploy/rbac ships them, a bare `users` Deployment,
// and dev-alice's kubeconfig (a client certificate in the developers group), so every command
// runs with the permissions a developer has, nothing more.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { DEVELOPERS_GROUP, REPO, adminConfig, apps, core, waitUntil } from './cluster.js';
import { developerKubeconfig } from './developer.js';

/** kwok never pulls: any image name works, and its tag says how the pods behave. */
export const IMAGE_REPO = 'registry.local/shiftops/users';

export interface UsersSpec {
  replicas: number;
  progressDeadlineSeconds: number;
  revisionHistoryLimit: number;
  maxSurge: number | string;
  minReadySeconds?: number;
  annotations?: Record<string, string>;
}

/** A `users` Deployment of IMAGE_REPO:<tag>, rolling update with maxUnavailable 0. */
export function usersDeployment(tag: string, spec: UsersSpec): V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'users' };
  return {
    metadata: { name: 'users', labels },
    spec: {
      replicas: spec.replicas,
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      revisionHistoryLimit: spec.revisionHistoryLimit,
      ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: spec.maxSurge },
      },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(spec.annotations ? { annotations: spec.annotations } : {}) },
        spec: { containers: [{ name: 'users', image: `${IMAGE_REPO}:${tag}` }] },
      },
    },
  };
}

/** The developers Role and RoleBinding exactly as deploy/rbac ships them, in namespace ns. */
export async function applyDevelopersRole(namespace: string): Promise<void> {
  const rbac = adminConfig().makeApiClient(RbacAuthorizationV1Api);
  const text = readFileSync(join(REPO, 'deploy/rbac/developers.yaml'), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind: string; metadata: { name: string } } | null;
    if (!obj) continue;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } } as never;
    if (obj.kind === 'Role') await rbac.createNamespacedRole({ namespace, body });
    if (obj.kind === 'RoleBinding') await rbac.createNamespacedRoleBinding({ namespace, body });
  }
}

/** A new namespace `<prefix>-<time>` with the developers Role; returns its name. */
export async function createSandbox(prefix: string): Promise<string> {
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await core().createNamespace({ body: { metadata: { name: namespace } } });
  await applyDevelopersRole(namespace);
  return namespace;
}

/**
 * Creates the Deployment and waits until all its replicas are available; returns dev-alice's
 * kubeconfig (developers group) for the commands under test.
 */
export async function startUsers(
  namespace: string,
  body: V1Deployment,
  timeoutMs: number,
): Promise<string> {
  await apps().createNamespacedDeployment({ namespace, body });
  const want = body.spec?.replicas ?? 1;
  await waitUntil(
    'the first rollout',
    async () => {
      const d = await apps().readNamespacedDeployment({ name: 'users', namespace });
      return (d.status?.availableReplicas ?? 0) === want;
    },
    { timeoutMs, intervalMs: 500 },
  );
  return developerKubeconfig('dev-alice', DEVELOPERS_GROUP);
}

export async function deleteSandbox(namespace: string): Promise<void> {
  await core()
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
}

export async function liveImage(namespace: string): Promise<string | undefined> {
  const d = await apps().readNamespacedDeployment({ name: 'users', namespace });
  return d.spec?.template.spec?.containers[0]?.image;
}
