// Observing autoscaling: replica counts of the staging Deployments over time, and HPA state.
import {
  STAGING,
  autoscaling,
  core,
  getDeployment,
  log,
  secs,
  sleep,
  type Service,
} from './cluster.js';

export async function hpaOf(svc: Service, ns = STAGING) {
  return autoscaling().readNamespacedHorizontalPodAutoscaler({ name: svc, namespace: ns });
}

/** The events of a service's HPA (SuccessfulRescale, FailedGetPodsMetric, ...). */
export async function hpaEvents(svc: Service, ns = STAGING) {
  const list = await core().listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${svc}`,
  });
  return list.items;
}

export async function replicas(svc: Service, ns = STAGING): Promise<number> {
  return (await getDeployment(ns, svc)).spec?.replicas ?? 0;
}

export async function hpaSummary(svc: Service, ns = STAGING): Promise<string> {
  const h = await hpaOf(svc, ns);
  const metrics = (h.status?.currentMetrics ?? []).map((m) =>
    m.type === 'Resource'
      ? `cpu ${m.resource?.current.averageUtilization}%`
      : m.type === 'Pods'
        ? `${m.pods?.metric.name} ${m.pods?.current.averageValue}`
        : `${m.type || '(invalid)'}`,
  );
  return `${svc}: replicas ${h.status?.currentReplicas} -> ${h.status?.desiredReplicas} [${metrics.join(', ')}]`;
}

/**
 * Samples the replica count (spec.replicas, which the HPA sets) of services every second, in the
 * background, so a test can assert that one stayed put while another scaled.
 */
export class ReplicaRecorder {
  readonly seen = new Map<Service, Array<{ t: number; n: number }>>();
  private running = true;
  private readonly started = Date.now();
  private loop: Promise<void>;

  constructor(readonly services: Service[]) {
    for (const s of services) this.seen.set(s, []);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      for (const s of this.services) {
        const n = await replicas(s).catch(() => undefined);
        if (n !== undefined) this.seen.get(s)!.push({ t: Date.now() - this.started, n });
      }
      await sleep(1000);
    }
  }

  /** Stops sampling, after one last sample (so a change just before the stop is recorded). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const s of this.services) {
      const n = await replicas(s).catch(() => undefined);
      if (n !== undefined) this.seen.get(s)!.push({ t: Date.now() - this.started, n });
    }
  }

  values(s: Service): number[] {
    return this.seen.get(s)!.map((x) => x.n);
  }

  /** "1 (0 s) -> 2 (10.3 s) -> 3 (15.1 s)": the changes only. */
  changes(s: Service): string {
    const out: string[] = [];
    let last: number | undefined;
    for (const { t, n } of this.seen.get(s)!)
      if (n !== last) {
        out.push(`${n} (${secs(t)})`);
        last = n;
      }
    return out.join(' -> ');
  }

  print(): void {
    for (const s of this.services) log(`  ${s} replicas: ${this.changes(s)}`);
  }
}
