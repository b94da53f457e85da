// Emulated releases for kwok pods: what a pod serves depends on its image, as it would with a
// real build. Each pod of a Deployment is annotated once, as soon as it appears, with an error
// share (shiftops.dev/emulated-error-ratio) and a latency (shiftops.dev/emulated-latency-seconds)
// for cluster/kwok/metrics.yaml: the release's values by image tag, times a per-pod factor drawn
// from a seeded generator (pods of one release differ from each other, as real ones do: the
// same noise model as cli/test/analysis-simulation.test.ts). Also remembers every pod it saw.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { core } from './cluster.js';
import { LATENCY } from './load.js';

export const ERROR_RATIO = 'shiftops.dev/emulated-error-ratio';
const MARK = 'shiftops.dev/emulated-release';

export interface ReleaseBehaviour {
  errorRatio: number;
  latencySeconds: number;
}

/** Base behaviour, and what image tags mean: `-errors10` fails 10% more, `-slow3x` is 3x slower. */
export const BASE: ReleaseBehaviour = { errorRatio: 0.01, latencySeconds: 0.04 };
export function behaviourOf(image: string): ReleaseBehaviour {
  const tag = image.slice(image.lastIndexOf(':') + 1);
  return {
    errorRatio: BASE.errorRatio + (tag.includes('-errors10') ? 0.1 : 0),
    latencySeconds: BASE.latencySeconds * (tag.includes('-slow3x') ? 3 : 1),
  };
}

/** Log-normal sigma of the error share between pods; latency varies by a quarter of it. */
export const POD_NOISE = 0.2;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ReleaseEmulator {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly random: () => number;
  /** Every pod seen: name -> image. */
  readonly seen = new Map<string, string>();
  errors = 0;

  constructor(
    readonly namespace: string,
    readonly app: string,
    seed = 11,
  ) {
    this.random = mulberry32(seed);
  }

  private normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), 250);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pods = await core().listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `app.kubernetes.io/name=${this.app}`,
      });
      for (const pod of pods.items) {
        const name = pod.metadata?.name ?? '';
        const image = pod.spec?.containers[0]?.image ?? '';
        if (!this.seen.has(name)) this.seen.set(name, image);
        if (pod.metadata?.deletionTimestamp || pod.metadata?.annotations?.[MARK]) continue;
        const b = behaviourOf(image);
        const errorRatio = Math.min(1, b.errorRatio * Math.exp(POD_NOISE * this.normal()));
        const latency = b.latencySeconds * Math.exp((POD_NOISE / 4) * this.normal());
        await core().patchNamespacedPod(
          {
            name,
            namespace: this.namespace,
            body: {
              metadata: {
                annotations: {
                  [MARK]: image,
                  [ERROR_RATIO]: errorRatio.toFixed(5),
                  [LATENCY]: latency.toFixed(4),
                },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    } catch {
      this.errors++; // a pod deleted between list and patch: the next round catches up
    } finally {
      this.busy = false;
    }
  }

  /** How many distinct pods ever ran `image`. */
  podsOf(image: string): number {
    return [...this.seen.values()].filter((i) => i === image).length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
