// Emulated load for kwok pods. kwok derives a pod's CPU usage from its annotation
// kwok.x-k8s.io/usage-cpu and its request latency histogram from shiftops.dev/emulated-latency-seconds
// (cluster/kwok/metrics.yaml). Load hits every pod of a service, including the ones the HPA
// adds, so an Emulator re-annotates the service's pods every second while it runs.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { STAGING, core, type Service } from './cluster.js';

export const CPU = 'kwok.x-k8s.io/usage-cpu';
export const LATENCY = 'shiftops.dev/emulated-latency-seconds';

export class LoadEmulator {
  private values: Record<string, string> = {};
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  errors = 0;

  constructor(
    readonly service: Service,
    readonly namespace = STAGING,
  ) {}

  /** Sets (and keeps setting) annotations on all pods of the service, e.g. {[CPU]: '250m'}. */
  async set(values: Record<string, string>): Promise<void> {
    this.values = { ...this.values, ...values };
    await this.apply();
    this.timer ??= setInterval(() => void this.apply(), 1000);
  }

  async apply(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let patched = 0;
    try {
      const pods = await core().listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `app.kubernetes.io/name=${this.service}`,
      });
      for (const pod of pods.items) {
        if (pod.metadata?.deletionTimestamp) continue;
        const have = pod.metadata?.annotations ?? {};
        const missing = Object.entries(this.values).filter(([k, v]) => have[k] !== v);
        if (missing.length === 0) continue;
        await core().patchNamespacedPod(
          {
            name: pod.metadata!.name!,
            namespace: this.namespace,
            body: { metadata: { annotations: Object.fromEntries(missing) } },
          },
          // client-node 1.x sends a JSON patch by default; this body is a merge patch.
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        patched++;
      }
    } catch {
      this.errors++; // a pod deleted between list and patch: the next round catches up
    } finally {
      this.busy = false;
    }
    return patched;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
