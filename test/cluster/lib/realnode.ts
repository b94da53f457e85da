// The real node (cluster/node/) and the seed's environment on it (cluster/seed, namespace
// 7shifts): which node, applying the seed, addresses of its Services, pods and their containers,
// and the one place that knows how to authenticate a request to our APIs.
import { readFileSync } from 'node:fs';
import {
  DiscoveryV1Api,
  NetworkingV1Api,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  adminConfig,
  apps,
  core,
  explain,
  autoscaling,
  kubeconfigPath,
  kubectl,
  kubectlOk,
  run,
  SERVICES,
  waitRolledOut,
  type Service,
} from './cluster.js';
import type { Principal } from '../../../packages/service-kit/src/auth/principal.js';
import { bearer } from './tokens.js';

export const SEED = '7shifts';
const clusterName = () => process.env.SHIFTOPS_CLUSTER_NAME ?? 'shiftops';
export const nodeName = () => process.env.SHIFTOPS_NODE_NAME ?? `${clusterName()}-node`;
export const IMAGE = (svc: Service, tag: string) => `docker.io/shiftops/${svc}:${tag}`;
/** The node's address on its bridge (pods reach the host there) and the pod network: NODE_IP and
 * POD_CIDR of cluster/lib.sh. */
export const NODE_IP = '10.250.0.1';
export const POD_CIDR = '10.244.0.0/24';

/** node:test option for the real-node suites: skip without one (outside CI); in CI, fail. */
export function realNodeOrSkip(): { skip: string | false } {
  const why =
    process.env.SHIFTOPS_REAL_NODE === '0'
      ? 'SHIFTOPS_REAL_NODE=0: no real node in this cluster'
      : !process.env.KUBECONFIG
        ? 'KUBECONFIG does not point at a test cluster (test/cluster/run.sh or `npm run cluster:up`)'
        : undefined;
  if (why && process.env.CI === 'true') throw new Error(`CI=true and ${why}`);
  return { skip: why ?? false };
}

/** The caller the real-node suites act as: an administrator who is no seeded user. */
const SUITE_ADMIN = {
  userId: 'ad000000-0000-4000-8000-00000000000a',
  role: 'admin',
  locations: [],
} as const satisfies Principal;
let authorization: string | undefined;

/**
 * Headers for a request to our APIs. The one place that knows how a test client authenticates:
 * a bearer token from the development issuer the local overlay (and so the seed) trusts, made by
 * ensureSeed() (12 h, longer than any suite).
 */
export function apiHeaders(): Record<string, string> {
  if (!authorization) throw new Error('apiHeaders() before ensureSeed(): no token yet');
  return { authorization };
}

/** ops-port URL (http://<podIP>:<ops port>) of a pod: /livez, /readyz, /version, /metrics. */
export function opsUrl(pod: V1Pod): string {
  const ip = pod.status?.podIP;
  const port = pod.spec?.containers[0]?.ports?.find((p) => p.name === 'ops')?.containerPort;
  if (!ip || !port) throw new Error(`pod ${pod.metadata?.name} has no IP or ops port yet`);
  return `http://${ip}:${port}`;
}

/** The seed's environment, applied once (cluster/seed/apply.sh waits until it is rolled out). */
export async function ensureSeed(): Promise<void> {
  authorization ??= await bearer(SUITE_ADMIN);
  // The namespace alone is not the seed: the node's Ingress controller makes it first (its Role).
  const exists = await apps()
    .readNamespacedDeployment({ name: 'users', namespace: SEED })
    .then(() => true)
    .catch(() => false);
  if (!exists) {
    const r = await run('bash', ['cluster/seed/apply.sh'], {
      env: { KUBECONFIG: kubeconfigPath(), SHIFTOPS_CLUSTER_NAME: clusterName() },
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(explain(r, 'cluster/seed/apply.sh'));
  }
  for (const svc of ['users', 'shifts'] as const) await waitRolledOut(SEED, svc, 180_000);
}

/** http://<ClusterIP>:<port> of a Service in the seed namespace (reached through kube-proxy). */
export async function serviceUrl(name: string, ns = SEED): Promise<string> {
  const s = await core().readNamespacedService({ name, namespace: ns });
  const ip = s.spec?.clusterIP;
  if (!ip || ip === 'None') throw new Error(`service ${ns}/${name} has no ClusterIP`);
  return `http://${ip}:${s.spec?.ports?.[0]?.port ?? 80}`;
}

export async function podsOf(app: string, ns = SEED): Promise<V1Pod[]> {
  const list = await core().listNamespacedPod({
    namespace: ns,
    labelSelector: `app.kubernetes.io/name=${app}`,
  });
  return list.items;
}

export const isReady = (p: V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export const restarts = (p: V1Pod) =>
  (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/** Every users and shifts pod of a namespace. */
export const appPods = async (ns = SEED) =>
  (await Promise.all(SERVICES.map((s) => podsOf(s, ns)))).flat();

/** Restarts of every users and shifts container, by pod name. */
export async function restartsByPod(ns = SEED): Promise<Map<string, number>> {
  return new Map((await appPods(ns)).map((p) => [p.metadata!.name!, restarts(p)]));
}

/** Every pod of the app is Ready (and, given a count, there are exactly that many). */
export async function allReady(app: Service, count?: number, ns = SEED): Promise<boolean> {
  const pods = await podsOf(app, ns);
  return pods.length > 0 && pods.every(isReady) && (count === undefined || pods.length === count);
}

/**
 * HPA behaviour for a test that watches scaling on real pods: up by 2 pods per 15 s without a
 * window (as the base), down by 1 per 15 s after a 10 s window (base: 300 s), so scaling back
 * ends within a minute and the next file finds the HPA at its minimum.
 */
export const FAST_SCALE_BEHAVIOR = {
  behavior: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: 10,
      policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }],
    },
  },
};

/**
 * Why the restarted containers of these pods ended (reason, exit code) and the last lines their
 * previous instance logged: what a failed "no restart" assertion needs to be diagnosed.
 */
export async function restartReport(pods: readonly V1Pod[]): Promise<string> {
  const lines: string[] = [];
  for (const p of pods) {
    for (const c of p.status?.containerStatuses ?? []) {
      if (!c.restartCount) continue;
      const t = c.lastState?.terminated;
      const name = `${p.metadata!.name}/${c.name}`;
      lines.push(`${name}: ${c.restartCount} restart(s), last ${t?.reason} exit ${t?.exitCode}`);
      const logs = await kubectl([
        'logs',
        '-n',
        p.metadata!.namespace!,
        p.metadata!.name!,
        '-c',
        c.name,
        '--previous',
        '--tail=15',
      ]);
      lines.push(
        ...(logs.code === 0 ? logs.stdout : logs.stderr)
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l}`),
      );
    }
  }
  return lines.join('\n');
}

/**
 * The node's Ingress controller (Traefik on the host, cluster/node/up.sh): its address on this
 * machine, and the host a seed Ingress routes (read from the live object, as the overlay set it).
 */
export const ingressUrl = () => `http://127.0.0.1:${process.env.SHIFTOPS_INGRESS_PORT ?? '18080'}`;
/** Its TLS entrypoint (the Ingresses with a tls section, the certificate from their Secret). */
export const ingressTlsUrl = () =>
  `https://127.0.0.1:${process.env.SHIFTOPS_INGRESS_TLS_PORT ?? '18443'}`;
export async function ingressHost(name: string): Promise<string> {
  const ing = await adminConfig()
    .makeApiClient(NetworkingV1Api)
    .readNamespacedIngress({ name, namespace: SEED });
  const host = ing.spec?.rules?.[0]?.host;
  if (!host) throw new Error(`ingress ${SEED}/${name} has no host`);
  return host;
}

/** Ready endpoints of a Service (EndpointSlices), as "ip" strings. */
export async function readyEndpoints(service: string, ns = SEED): Promise<string[]> {
  const slices = await adminConfig()
    .makeApiClient(DiscoveryV1Api)
    .listNamespacedEndpointSlice({
      namespace: ns,
      labelSelector: `kubernetes.io/service-name=${service}`,
    });
  return slices.items.flatMap((s) =>
    (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses),
  );
}

/** Resident memory of a process of the real node (its pid file in the cluster's run dir), in MB. */
export function nodeComponentRss(component: string): number | undefined {
  const dir = process.env.SHIFTOPS_NODE_DIR;
  if (!dir) return undefined;
  try {
    const pid = readFileSync(`${dir}/pids/${component}.pid`, 'utf8').trim();
    return rssOfPid(pid);
  } catch {
    return undefined;
  }
}

export function rssOfPid(pid: string | number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets fields of an HPA in the seed namespace for a test (JSON patch "add" of each path) and
 * returns a function that puts the old values back.
 */
export async function patchHpa(
  name: string,
  values: Record<string, unknown>,
): Promise<() => Promise<void>> {
  const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({ name, namespace: SEED });
  const spec = h.spec as unknown as Record<string, unknown>;
  const old = Object.fromEntries(Object.keys(values).map((k) => [k, spec[k]]));
  const patch = (v: Record<string, unknown>) =>
    kubectlOk([
      '-n',
      SEED,
      'patch',
      'hpa',
      name,
      '--type=json',
      '-p',
      JSON.stringify(
        Object.entries(v).map(([k, value]) =>
          value === undefined
            ? { op: 'remove', path: `/spec/${k}` }
            : { op: 'add', path: `/spec/${k}`, value },
        ),
      ),
    ]);
  await patch(values);
  return async () => {
    await patch(old);
  };
}

/**
 * A test pod on the real node (its label and taint, as cluster/seed places the seed's workloads)
 * that passes Pod Security "restricted": non-root, no privilege escalation, read-only root, no
 * capabilities, no service account token; an image already in the node's containerd.
 */
export function realNodePod(
  name: string,
  labels: Record<string, string>,
  container: Omit<V1Container, 'imagePullPolicy' | 'resources' | 'securityContext'>,
): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      nodeSelector: { 'shiftops.dev/real-node': 'true' },
      tolerations: [
        { key: 'shiftops.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      ],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          ...container,
          imagePullPolicy: 'Never',
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}
