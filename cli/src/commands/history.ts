// shiftops history <service>: the Deployment's revisions (its ReplicaSets), like
// `kubectl rollout history` but with the image and which revision is live.
import type { Command } from '../args.js';
import type { Kube } from '../kube/client.js';
import type { Output } from '../output.js';
import type { Outcome } from '../rollout/exit-codes.js';
import { formatHistory, type HistoryRow } from '../rollout/format.js';
import { CHANGE_CAUSE_ANNOTATION, containerImage, revisionOf } from '../rollout/objects.js';
import { findNewReplicaSet } from '../rollout/rollback-target.js';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { getDeployment, listOwnedReplicaSets } from './common.js';
import { parseRecord } from '../analysis/record.js';

type History = Extract<Command, { name: 'history' }>;

export function historyRows(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  container: string,
): HistoryRow[] {
  const live = findNewReplicaSet(deployment, replicaSets);
  return replicaSets
    .map((rs) => {
      const created = rs.metadata?.creationTimestamp as Date | string | undefined;
      const cause = rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
      const image = containerImage(rs.spec?.template, container);
      const analysis = parseRecord(rs.metadata?.annotations, image);
      return {
        revision: revisionOf(rs.metadata) ?? 0,
        image: image ?? '?',
        ...(cause ? { changeCause: cause } : {}),
        ...(analysis ? { analysis } : {}),
        ...(created
          ? { createdAt: created instanceof Date ? created.toISOString() : created }
          : {}),
        live: rs === live,
        readyReplicas: rs.status?.readyReplicas ?? 0,
        replicas: rs.status?.replicas ?? 0,
      };
    })
    .sort((a, b) => a.revision - b.revision);
}

export async function history(kube: Kube, out: Output, cmd: History): Promise<Outcome> {
  const deployment = await getDeployment(kube, cmd.service);
  const rows = historyRows(deployment, await listOwnedReplicaSets(kube, deployment), cmd.service);
  out.result(
    {
      command: 'history',
      service: cmd.service,
      namespace: kube.namespace,
      context: kube.context,
      revisions: rows,
    },
    formatHistory(cmd.service, rows, Date.now()),
  );
  return { kind: 'succeeded' };
}
