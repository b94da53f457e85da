// The scale suite's HPA step (I/O): the users Deployment, ServiceAccount and HorizontalPodAutoscaler
// as deploy/overlays/production builds them, put into a sandbox namespace, with the HPA patched for
// the run (maxReplicas raised; the kwok cluster tests' fast behaviour from test/cluster/overlays/staging;
// the CPU metric only), and a sampler of the timeline (timeline.ts).
import type {
  V1Deployment,
  V1ServiceAccount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { apps, autoscaling, core, kubectlOk, sleep } from '../lib/cluster.js';
import type { Sample } from './timeline.js';

const SVC = 'users';

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
}

async function built(dir: string): Promise<Obj[]> {
  const text = await kubectlOk(['kustomize', dir]);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const pick = <T>(objs: Obj[], kind: string): T => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === SVC);
  if (!o) throw new Error(`no ${kind}/${SVC} in the built manifests`);
  return o as T;
};

/** Without namespace (the sandbox's is used) and anything the server owns. */
const into = <T extends { metadata?: unknown }>(o: T): T => {
  const { namespace: _ns, ...metadata } = o.metadata as Record<string, unknown>;
  return { ...o, metadata } as T;
};

export interface HpaObjects {
  deployment: V1Deployment;
  serviceAccount: V1ServiceAccount;
  hpa: V2HorizontalPodAutoscaler;
  /** The production HPA as shipped, before the run's patch (for the log). */
  shipped: { min: number; max: number };
}

/**
 * Production's users objects; the HPA's maxReplicas set to `max`, its behaviour replaced by the
 * one the kwok cluster tests use (test/cluster/overlays/staging: doubling every 5 s, down within
 * seconds; the shipped one adds at most 100% per 30 s and waits 5 min before scaling down), and
 * its metrics reduced to CPU (the latency metric needs Prometheus over every emulated pod, which
 * the cluster suite's latency files cover).
 */
export async function hpaObjects(max: number): Promise<HpaObjects> {
  const prod = await built('deploy/overlays/production');
  const fast = pick<V2HorizontalPodAutoscaler>(
    await built('test/cluster/overlays/staging'),
    'HorizontalPodAutoscaler',
  );
  const hpa = into(pick<V2HorizontalPodAutoscaler>(prod, 'HorizontalPodAutoscaler'));
  const shipped = { min: hpa.spec!.minReplicas ?? 1, max: hpa.spec!.maxReplicas };
  hpa.spec!.maxReplicas = max;
  hpa.spec!.behavior = fast.spec!.behavior!;
  hpa.spec!.metrics = (hpa.spec!.metrics ?? []).filter(
    (m) => m.type === 'Resource' && m.resource?.name === 'cpu',
  );
  if (hpa.spec!.metrics.length !== 1) throw new Error('the production HPA has no CPU metric');
  return {
    deployment: into(pick<V1Deployment>(prod, 'Deployment')),
    serviceAccount: into(pick<V1ServiceAccount>(prod, 'ServiceAccount')),
    hpa,
    shipped,
  };
}

export async function createHpaObjects(ns: string, o: HpaObjects): Promise<void> {
  await core().createNamespacedServiceAccount({ namespace: ns, body: o.serviceAccount });
  await apps().createNamespacedDeployment({ namespace: ns, body: o.deployment });
  await autoscaling().createNamespacedHorizontalPodAutoscaler({ namespace: ns, body: o.hpa });
}

/** The zone constraint's maxSkew in the Deployment's pod template. */
export function zoneMaxSkew(d: V1Deployment): number {
  const c = d.spec?.template.spec?.topologySpreadConstraints?.find(
    (x) => x.topologyKey === 'topology.kubernetes.io/zone',
  );
  if (!c) throw new Error('the users Deployment has no zone topology spread constraint');
  return c.maxSkew;
}

/** The first container's CPU request in millicores ('250m', '1', '0.5'). */
export function cpuRequestMilli(d: V1Deployment): number {
  const q = String(d.spec?.template.spec?.containers[0]?.resources?.requests?.cpu ?? '');
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) throw new Error(`cannot read the CPU request '${q}'`);
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

export interface State {
  desired: number;
  ready: number;
  cpu: number | undefined;
  zones: Record<string, number>;
  pods: number;
}

/** One look at the Deployment, its HPA and its pods (scheduled, not terminating, per zone). */
export async function stateOf(ns: string, zoneOf: Map<string, string>): Promise<State> {
  const [d, h, pods] = await Promise.all([
    apps().readNamespacedDeployment({ name: SVC, namespace: ns }),
    autoscaling().readNamespacedHorizontalPodAutoscaler({ name: SVC, namespace: ns }),
    core().listNamespacedPod({ namespace: ns, labelSelector: `app.kubernetes.io/name=${SVC}` }),
  ]);
  const zones: Record<string, number> = Object.fromEntries(
    [...new Set(zoneOf.values())].map((z) => [z, 0]),
  );
  let n = 0;
  for (const p of pods.items) {
    if (p.metadata?.deletionTimestamp) continue;
    n++;
    const z = zoneOf.get(p.spec?.nodeName ?? '');
    if (z !== undefined) zones[z] = (zones[z] ?? 0) + 1;
  }
  const cpu = h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current
    .averageUtilization;
  return {
    desired: d.spec?.replicas ?? 0,
    ready: d.status?.readyReplicas ?? 0,
    cpu: cpu ?? undefined,
    zones,
    pods: n,
  };
}

/** Samples the state about once a second in the background until stopped. */
export class TimelineSampler {
  readonly samples: Sample[] = [];
  errors = 0;
  private running = true;
  private readonly started = Date.now();
  private readonly loop: Promise<void>;

  /** `load`: the emulated CPU per pod (% of its request), set by the caller when it changes it. */
  constructor(
    readonly ns: string,
    readonly zoneOf: Map<string, string>,
    public load: number,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      await this.sample();
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    }
  }

  async sample(): Promise<State | undefined> {
    const t = Date.now() - this.started;
    const load = this.load;
    try {
      const s = await stateOf(this.ns, this.zoneOf);
      this.samples.push({
        t,
        load,
        desired: s.desired,
        ready: s.ready,
        cpu: s.cpu,
        zones: s.zones,
      });
      return s;
    } catch {
      this.errors++; // a slow or failed read: the next second's sample follows
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.sample();
  }
}
