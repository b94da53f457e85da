// Which image a promotion takes from its source: exactly the digest the source's pods run, and
// only when the source is settled and healthy. Pure, so every refusal is table-tested.
// - settled: kubectl's rollout status says "successfully rolled out" (observed generation, all
//   replicas updated and available, no old ones), not paused (a paused Deployment may be a
//   release held for analysis), and no pod of another revision is still around;
// - healthy: at least one replica, and every pod of the live revision is Ready;
// - one digest: every pod's imageID for the service container names the same sha256 digest (a
//   tag can move between two pod starts; the digest is what was tested);
// - analysis: if the live revision carries an analysis record about its image, it says "pass".
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { parseRecord, type AnalysisRecord } from '../analysis/record.js';
import { parseImageRef } from '../rollout/image.js';
import { containerImage, revisionOf } from '../rollout/objects.js';
import { findNewReplicaSet } from '../rollout/rollback-target.js';
import { kubectlRolloutStatus, newPods } from '../rollout/verdict.js';

export type SourceRefusal =
  | 'no-container'
  | 'paused'
  | 'mid-rollout'
  | 'no-replicas'
  | 'unhealthy'
  | 'no-digest'
  | 'mixed-digests'
  | 'analysis-not-passed';

export type SourceDecision =
  | {
      ok: true;
      /** `<repository>@sha256:<digest>`: what the targets get. */
      image: string;
      digest: string;
      /** The source's own image reference (often a tag). */
      specImage: string;
      revision: number | undefined;
      replicas: number;
      analysis?: AnalysisRecord;
    }
  | { ok: false; reason: SourceRefusal; message: string };

const DIGEST = /@(sha256:[a-f0-9]{64})$/;

function isReady(p: V1Pod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** `docker-pullable://repo@sha256:…`, `repo@sha256:…` or a bare `sha256:…` (some runtimes). */
export function digestOf(imageID: string | undefined): string | undefined {
  if (!imageID) return undefined;
  const m = DIGEST.exec(imageID) ?? /^(sha256:[a-f0-9]{64})$/.exec(imageID);
  return m?.[1];
}

export function selectSource(
  service: string,
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
): SourceDecision {
  const refuse = (reason: SourceRefusal, message: string): SourceDecision => ({
    ok: false,
    reason,
    message,
  });
  const specImage = containerImage(deployment.spec?.template, service);
  if (specImage === undefined)
    return refuse('no-container', `the Deployment has no container named "${service}"`);
  if (deployment.spec?.paused)
    return refuse('paused', 'the Deployment is paused (a release held for analysis, or by hand)');
  const status = kubectlRolloutStatus(deployment);
  if (status.state !== 'succeeded')
    return refuse(
      status.state === 'failed' ? 'unhealthy' : 'mid-rollout',
      `its rollout is not settled: ${status.message}`,
    );
  const replicas = deployment.spec?.replicas ?? 0;
  if (replicas === 0) return refuse('no-replicas', 'it runs no replicas (scaled to 0)');
  const live = newPods(deployment, replicaSets, pods).filter((p) => !p.metadata?.deletionTimestamp);
  const others = pods.filter((p) => !live.includes(p) && !p.metadata?.deletionTimestamp);
  if (others.length > 0)
    return refuse(
      'mid-rollout',
      `${others.length} pod(s) of another revision still run (${others.map((p) => p.metadata?.name).join(', ')})`,
    );
  const unready = live.filter((p) => !isReady(p));
  if (live.length < replicas || unready.length > 0)
    return refuse(
      'unhealthy',
      `${live.length - unready.length} of ${replicas} replicas are Ready${unready.length ? ` (not Ready: ${unready.map((p) => p.metadata?.name).join(', ')})` : ''}`,
    );
  const digests = new Map<string, string[]>();
  for (const p of live) {
    const cs = (p.status?.containerStatuses ?? []).find((c) => c.name === service);
    const d = digestOf(cs?.imageID);
    if (!d)
      return refuse(
        'no-digest',
        `pod ${p.metadata?.name} reports no image digest (imageID "${cs?.imageID ?? ''}"): the image actually running is unknown`,
      );
    digests.set(d, [...(digests.get(d) ?? []), p.metadata?.name ?? '?']);
  }
  if (digests.size > 1)
    return refuse(
      'mixed-digests',
      `its pods run ${digests.size} different digests of ${specImage} (${[...digests.entries()].map(([d, names]) => `${d.slice(7, 19)}: ${names.join(', ')}`).join('; ')}): the tag moved while they started`,
    );
  const [digest] = [...digests.keys()] as [string];
  const newRs = findNewReplicaSet(deployment, replicaSets);
  const record = parseRecord(newRs?.metadata?.annotations, specImage);
  if (record && record.result !== 'pass')
    return refuse(
      'analysis-not-passed',
      `its release analysis says "${record.result}"${record.reason ? ` (${record.reason})` : ''}, not "pass"`,
    );
  const repository = parseImageRef(specImage)?.repository;
  if (!repository)
    return refuse('no-container', `the source image "${specImage}" is not a valid reference`);
  return {
    ok: true,
    image: `${repository}@${digest}`,
    digest,
    specImage,
    revision: revisionOf(newRs?.metadata),
    replicas,
    ...(record ? { analysis: record } : {}),
  };
}
