// Records a Deployment's replica counts over time through an API watch (client-node Watch), so a
// test can assert on every state the Deployment went through, not only on samples.
import { Watch } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { adminConfig } from './cluster.js';

export interface Sample {
  t: number; // ms since the watcher started
  desired: number; // spec.replicas
  replicas: number;
  ready: number;
  available: number;
  updated: number;
  image: string;
}

export class DeploymentWatcher {
  readonly samples: Sample[] = [];
  private abort: AbortController | undefined;
  private readonly started = Date.now();
  private stopped = false;
  errors: string[] = [];

  private constructor(
    readonly namespace: string,
    readonly name: string,
  ) {}

  /** Starts the watch; resolves once the first event (the current state) has arrived. */
  static async start(namespace: string, name: string): Promise<DeploymentWatcher> {
    const w = new DeploymentWatcher(namespace, name);
    await w.connect();
    const deadline = Date.now() + 10_000;
    while (w.samples.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    if (w.samples.length === 0) throw new Error(`no watch event for ${namespace}/${name}`);
    return w;
  }

  private async connect(): Promise<void> {
    const watch = new Watch(adminConfig());
    this.abort = await watch.watch(
      `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
      { fieldSelector: `metadata.name=${this.name}` },
      (type: string, obj: V1Deployment) => {
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        const s = obj.status ?? {};
        this.samples.push({
          t: Date.now() - this.started,
          desired: obj.spec?.replicas ?? 1,
          replicas: s.replicas ?? 0,
          ready: s.readyReplicas ?? 0,
          available: s.availableReplicas ?? 0,
          updated: s.updatedReplicas ?? 0,
          image: obj.spec?.template.spec?.containers[0]?.image ?? '',
        });
      },
      (err: unknown) => {
        // A watch ends after a while (server timeout): reconnect until stopped.
        if (err) this.errors.push(String(err));
        if (!this.stopped) void this.connect().catch((e: unknown) => this.errors.push(String(e)));
      },
    );
  }

  stop(): Sample[] {
    this.stopped = true;
    this.abort?.abort();
    return this.samples;
  }

  /** Samples where fewer replicas were ready than desired. */
  belowDesired(): Sample[] {
    return this.samples.filter((s) => s.ready < s.desired);
  }

  render(): string {
    return this.samples
      .map(
        (s) =>
          `${(s.t / 1000).toFixed(1).padStart(6)} s  desired ${s.desired} replicas ${s.replicas} ` +
          `updated ${s.updated} ready ${s.ready} available ${s.available}  ${s.image}`,
      )
      .join('\n');
  }
}
