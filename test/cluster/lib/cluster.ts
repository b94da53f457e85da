// Shared helpers for the cluster tests (test/cluster/tests/NN-*.test.ts): which cluster, how to run
// kubectl and shiftops against it, waiting, and applying the overlays. The cluster is the one
// test/cluster/run.sh started (or `npm run cluster:up`): KUBECONFIG points at its admin kubeconfig.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../../..');
export const CLI = join(REPO, 'cli/dist/main.js');

export const STAGING = 'shiftops-staging';
export const PRODUCTION = 'shiftops-production';
export const SERVICES = ['users', 'shifts'] as const;
export type Service = (typeof SERVICES)[number];
/** The image repositories the overlays use (deploy/overlays/*: ghcr.io/shiftops/<svc>:<tag>). */
export const imageRepo = (svc: Service) => `ghcr.io/shiftops/${svc}`;
export const DEVELOPERS_GROUP = 'shiftops:developers';

/**
 * Why the tests cannot run, or undefined. Under CI=true there is no skipping: a missing cluster
 * or CLI build makes the test fail (run.sh sets everything up).
 */
function missing(): string | undefined {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig || !existsSync(kubeconfig))
    return 'KUBECONFIG does not point at a test cluster (test/cluster/run.sh or `npm run cluster:up`)';
  if (!existsSync(CLI)) return `${CLI} missing: run \`npx tsc -b\``;
  return undefined;
}

/** node:test option: skip outside CI when there is no cluster; in CI throw instead. */
export function clusterOrSkip(): { skip: string | false } {
  const why = missing();
  if (why && process.env.CI === 'true') throw new Error(`CI=true and ${why}`);
  return { skip: why ?? false };
}

export const kubeconfigPath = () => process.env.KUBECONFIG ?? '';

let admin: KubeConfig | undefined;
export function adminConfig(): KubeConfig {
  if (!admin) {
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath());
  }
  return admin;
}
export const apps = () => adminConfig().makeApiClient(AppsV1Api);
export const core = () => adminConfig().makeApiClient(CoreV1Api);
export const autoscaling = () => adminConfig().makeApiClient(AutoscalingV2Api);

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** ms after the start when stdout/stderr first matched opts.mark (if given and seen) */
  markedMs?: number;
  /** With opts.peakRss: the process's VmHWM in kB, the last sample before it exited */
  peakRssKb?: number;
}

const RSS_SAMPLE_MS = 100;

/** VmHWM (peak resident set) of a running process, in kB; undefined once it is gone. */
function vmHwmKb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function explain(r: Run, what = 'command'): string {
  return `${what}: exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Runs a process; never rejects (the exit code is in the result). */
export function run(
  cmd: string,
  args: string[],
  opts: {
    input?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
    mark?: RegExp;
    /** Sample the process's peak RSS (a high-water mark, so a late sample holds the peak). */
    peakRss?: boolean;
    /** Called with all output so far whenever more arrives (to act while it runs). */
    onOutput?: (stdout: string, stderr: string) => void;
  } = {},
): Promise<Run> {
  const started = Date.now();
  let markedMs: number | undefined;
  const check = (text: string) => {
    if (markedMs === undefined && opts.mark?.test(text)) markedMs = Date.now() - started;
  };
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, {
      cwd: REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRssKb: number | undefined;
    const sample = () => {
      const kb = child.pid === undefined ? undefined : vmHwmKb(child.pid);
      if (kb !== undefined) peakRssKb = Math.max(peakRssKb ?? 0, kb);
    };
    const sampler = opts.peakRss ? setInterval(sample, RSS_SAMPLE_MS) : undefined;
    if (opts.peakRss) sample();
    child.stdout.on('data', (d: Buffer) => {
      check((stdout += d.toString()));
      opts.onOutput?.(stdout, stderr);
    });
    child.stderr.on('data', (d: Buffer) => {
      check((stderr += d.toString()));
      opts.onOutput?.(stdout, stderr);
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          stderr += `\n[killed after ${opts.timeoutMs} ms]`;
          child.kill('SIGTERM');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err) => {
      stderr += String(err);
    });
    // Stop sampling at exit: the pid may belong to another process afterwards.
    child.on('exit', () => clearInterval(sampler));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolveRun({
        code,
        stdout,
        stderr,
        ms: Date.now() - started,
        markedMs,
        ...(peakRssKb !== undefined ? { peakRssKb } : {}),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** kubectl (the pinned one: run.sh puts the cache's bin first on PATH) as the cluster admin. */
export function kubectl(
  args: string[],
  opts: { input?: string; kubeconfig?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return run('kubectl', ['--kubeconfig', opts.kubeconfig ?? kubeconfigPath(), ...args], {
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(args: string[], opts: { input?: string } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(explain(r, `kubectl ${args.join(' ')}`));
  return r.stdout;
}

/**
 * The built CLI (cli/dist/main.js), as its own process, like a person runs it. `namespace: null`
 * passes no -n (promote's places name their own namespaces).
 */
export function shiftops(
  args: string[],
  opts: {
    kubeconfig?: string;
    namespace?: string | null;
    mark?: RegExp;
    timeoutMs?: number;
    onOutput?: (stdout: string, stderr: string) => void;
  } = {},
): Promise<Run> {
  const namespace = opts.namespace === null ? [] : ['-n', opts.namespace ?? STAGING];
  return run(
    process.execPath,
    [CLI, '--kubeconfig', opts.kubeconfig ?? kubeconfigPath(), ...namespace, ...args],
    {
      env: { KUBECONFIG: '' },
      timeoutMs: opts.timeoutMs ?? 600_000,
      ...(opts.mark ? { mark: opts.mark } : {}),
      ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
    },
  );
}

export function parseJson<T = Record<string, unknown>>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON\n${explain(r)}`);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls fn until it returns something other than undefined/false; returns that value and the
 * time it took. Throws on timeout, with the last value seen (describe) in the message.
 */
export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number; describe?: () => Promise<string> },
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return { value: v, ms: Date.now() - start };
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - start > opts.timeoutMs) {
      const state = opts.describe ? await opts.describe().catch((e: unknown) => String(e)) : '';
      throw new Error(
        `timed out after ${opts.timeoutMs / 1000} s waiting for ${what}` +
          (state ? `\nstate: ${state}` : '') +
          (lastError ? `\nlast error: ${String(lastError)}` : ''),
      );
    }
    await sleep(opts.intervalMs ?? 1000);
  }
}

export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function getDeployment(ns: string, name: string): Promise<V1Deployment> {
  return apps().readNamespacedDeployment({ name, namespace: ns });
}

export const imageOf = (d: V1Deployment) => d.spec?.template.spec?.containers[0]?.image;

/** The Deployment's revision (deployment.kubernetes.io/revision): one more per release or rollback. */
export const revisionOf = (d: V1Deployment) =>
  Number(d.metadata?.annotations?.['deployment.kubernetes.io/revision']);

/** Rolled out: controller caught up, all replicas updated, ready and available, no old ones left. */
export function isRolledOut(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}

/** The minReplicas of the HPA of the same name, or undefined when there is none. */
export async function hpaMinReplicas(ns: string, name: string): Promise<number | undefined> {
  try {
    const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({ name, namespace: ns });
    return h.spec?.minReplicas ?? 1;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/**
 * Rolled out at the count that serves: when an HPA owns the Deployment, also at least its
 * minReplicas. Right after a first apply the Deployment has the API's default of 1 replica and
 * is "rolled out" with it, until the HPA raises it to its minimum a few seconds later; a test
 * that counted pods then saw one pod of two.
 */
export async function waitRolledOut(ns: string, name: string, timeoutMs = 120_000) {
  const min = (await hpaMinReplicas(ns, name)) ?? 0;
  return waitUntil(
    `deployment ${ns}/${name} rolled out` + (min ? ` with >= ${min} replicas (its HPA)` : ''),
    async () => {
      const d = await getDeployment(ns, name);
      return isRolledOut(d) && (d.spec?.replicas ?? 1) >= min ? d : undefined;
    },
    { timeoutMs, describe: async () => JSON.stringify((await getDeployment(ns, name)).status) },
  );
}

async function namespaceExists(ns: string): Promise<boolean> {
  return core()
    .readNamespace({ name: ns })
    .then(() => true)
    .catch(() => false);
}

/** The production overlay needs the platform's database Secrets; created here, never in git. */
export async function createProductionSecrets(): Promise<void> {
  for (const svc of SERVICES) {
    const manifest = await kubectlOk([
      'create',
      'secret',
      'generic',
      `${svc}-database`,
      '-n',
      PRODUCTION,
      `--from-literal=DATABASE_URL=postgres://${svc}:test-only@db.invalid:5432/${svc}`,
      '--dry-run=client',
      '-o',
      'yaml',
    ]);
    await kubectlOk(['apply', '--server-side', '-f', '-'], { input: manifest });
  }
}

/**
 * The production overlay as the platform team applies it: its platform-owned objects (Namespace,
 * RBAC) first, then the database Secrets it references (created here as admin, never in git),
 * then everything. Returns kubectl's output of the last apply.
 */
export async function applyProduction(): Promise<string> {
  const built = await kubectlOk(['kustomize', 'deploy/overlays/production']);
  await kubectlOk(['apply', '--server-side', '-l', 'shiftops.dev/managed-by=platform', '-f', '-'], {
    input: built,
  });
  await createProductionSecrets();
  return kubectlOk(['apply', '--server-side', '-f', '-'], { input: built });
}

/**
 * For a test file run on its own: make sure the CRDs, the staging test overlay and the production
 * overlay are applied. Does nothing if both namespaces exist (01-overlays applies them with
 * assertions, and later tests change images that a re-apply would conflict with).
 */
export async function ensureApplied(): Promise<void> {
  if ((await namespaceExists(STAGING)) && (await namespaceExists(PRODUCTION))) return;
  await kubectlOk(['apply', '--server-side', '-k', 'deploy/crds']);
  await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  await kubectlOk([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-k',
    'test/cluster/overlays/staging',
  ]);
  await applyProduction();
  for (const ns of [STAGING, PRODUCTION])
    for (const svc of SERVICES) await waitRolledOut(ns, svc, 180_000);
}

export function readText(rel: string): string {
  return readFileSync(join(REPO, rel), 'utf8');
}

/** Prints a table (for the test log): first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [
    line(rows[0]!),
    '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|',
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Log lines go to stdout with a prefix, so they are easy to grep in CI logs. */
export function log(msg: string): void {
  process.stdout.write(
    msg
      .split('\n')
      .map((l) => `# ${l}`)
      .join('\n') + '\n',
  );
}
