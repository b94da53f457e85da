// Set-up for the cluster tests: an admin client from $KUBECONFIG, a fresh namespace with the
// developers Role from deploy/rbac, a `users` Deployment, and a kubeconfig for a developer
// (CN=dev-alice, O=shiftops:developers) signed with the cluster CA, so RBAC is the real thing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
export const MAIN = join(REPO, 'cli/src/main.ts');
export const IMAGE_REPO = 'registry.local/shiftops/users';

export function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export interface Cluster {
  kc: KubeConfig;
  apps: AppsV1Api;
  core: CoreV1Api;
  namespace: string;
}

export async function createNamespace(kc: KubeConfig): Promise<Cluster> {
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `shiftops-cli-${Date.now().toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return { kc, apps: kc.makeApiClient(AppsV1Api), core, namespace };
}

/** The developers Role and RoleBinding exactly as deploy/rbac ships them. */
export async function applyDevelopersRole(c: Cluster): Promise<void> {
  const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
  const text = readFileSync(join(REPO, 'deploy/rbac/developers.yaml'), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind: string; metadata: { name: string } };
    if (!obj) continue;
    const body = { ...obj, metadata: { ...obj.metadata, namespace: c.namespace } };
    if (obj.kind === 'Role')
      await rbac.createNamespacedRole({ namespace: c.namespace, body: body as never });
    if (obj.kind === 'RoleBinding')
      await rbac.createNamespacedRoleBinding({ namespace: c.namespace, body: body as never });
  }
}

export function usersDeployment(tag: string): V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'users' };
  return {
    metadata: { name: 'users', labels },
    spec: {
      replicas: 2,
      progressDeadlineSeconds: 90,
      revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'users', image: `${IMAGE_REPO}:${tag}` }] },
      },
    },
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function currentImage(c: Cluster): Promise<string | undefined> {
  const d = await c.apps.readNamespacedDeployment({ name: 'users', namespace: c.namespace });
  return d.spec?.template.spec?.containers[0]?.image;
}

/**
 * A kubeconfig for CN=<user>, O=<group>, signed by the cluster CA. kwokctl keeps the CA next to
 * the kubeconfig (pki/ca.{crt,key}); SHIFTOPS_TEST_CA_DIR overrides. undefined if there is none.
 */
export function userKubeconfig(admin: KubeConfig, user: string, group: string): string | undefined {
  const caDir =
    process.env.SHIFTOPS_TEST_CA_DIR ?? join(dirname(process.env.KUBECONFIG ?? ''), 'pki');
  const caCrt = join(caDir, 'ca.crt');
  const caKey = join(caDir, 'ca.key');
  if (!existsSync(caCrt) || !existsSync(caKey)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'shiftops-cli-user-'));
  const key = join(dir, 'user.key');
  const csr = join(dir, 'user.csr');
  const crt = join(dir, 'user.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${user}/O=${group}`,
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCrt,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      crt,
      '-days',
      '1',
    ],
    { stdio: 'ignore' },
  );
  const cluster = admin.getCurrentCluster();
  if (!cluster) return undefined;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server: cluster.server,
        caData: cluster.caData,
        caFile: cluster.caFile,
        skipTLSVerify: cluster.skipTLSVerify,
      },
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

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs shiftops from source, as a separate process, like a developer would. */
export function shiftops(kubeconfig: string, namespace: string, args: string[]): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, '--kubeconfig', kubeconfig, '-n', namespace, ...args],
      {
        cwd: REPO,
        env: { ...process.env, KUBECONFIG: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, ms: Date.now() - started }));
  });
}
