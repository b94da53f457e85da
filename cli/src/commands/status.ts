// shiftops status [service]: replicas, image, revision, rollout state, HPA metrics and recent
// warning events, per service.
import type { Command } from '../args.js';
import { classify, type Kube } from '../kube/client.js';
import { warningEvents } from '../kube/diagnostics.js';
import type { Output } from '../output.js';
import type { Outcome } from '../rollout/exit-codes.js';
import { formatStatus, type ServiceStatus } from '../rollout/format.js';
import { hpaStatus } from '../rollout/hpa.js';
import { containerImage, revisionOf, toMillis } from '../rollout/objects.js';
import { kubectlRolloutStatus } from '../rollout/verdict.js';
import { getDeployment } from './common.js';
import { CliError } from '../kube/client.js';

type Status = Extract<Command, { name: 'status' }>;

const EVENT_WINDOW_MS = 60 * 60 * 1000;
const MAX_EVENTS = 5;

async function serviceStatus(kube: Kube, service: string): Promise<ServiceStatus> {
  let deployment;
  try {
    deployment = await getDeployment(kube, service);
  } catch (err) {
    if (err instanceof CliError && err.kind === 'refused')
      return { service, found: false, warnings: [] };
    throw err;
  }
  const [hpa, warnings] = await Promise.all([
    kube.autoscaling
      .readNamespacedHorizontalPodAutoscaler({ name: service, namespace: kube.namespace })
      .then(hpaStatus)
      .catch((err: unknown) => {
        const e = classify(err, `reading hpa ${service}`);
        if (e.kind === 'not-found') return undefined;
        throw e;
      }),
    // Events of the Deployment, its ReplicaSets (<service>-<hash>) and pods (<service>-<hash>-<id>).
    warningEvents(
      kube,
      'type=Warning',
      (e) => {
        const name = e.involvedObject.name ?? '';
        const seen = toMillis(
          (e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) as
            Date | string | undefined,
        );
        return (
          (name === service || name.startsWith(`${service}-`)) &&
          (seen === undefined || Date.now() - seen < EVENT_WINDOW_MS)
        );
      },
      MAX_EVENTS,
    ).catch((err: unknown) => {
      throw classify(err, 'listing events');
    }),
  ]);
  const st = deployment.status ?? {};
  return {
    service,
    found: true,
    ...(revisionOf(deployment.metadata) !== undefined
      ? { revision: revisionOf(deployment.metadata) as number }
      : {}),
    ...(containerImage(deployment.spec?.template, service)
      ? { image: containerImage(deployment.spec?.template, service) as string }
      : {}),
    desired: deployment.spec?.replicas ?? 0,
    updated: st.updatedReplicas ?? 0,
    ready: st.readyReplicas ?? 0,
    available: st.availableReplicas ?? 0,
    rollout: kubectlRolloutStatus(deployment).message,
    paused: deployment.spec?.paused ?? false,
    ...(hpa ? { hpa } : {}),
    warnings,
  };
}

export async function status(kube: Kube, out: Output, cmd: Status): Promise<Outcome> {
  const services = await Promise.all(cmd.services.map((s) => serviceStatus(kube, s)));
  const now = Date.now();
  out.result(
    { command: 'status', namespace: kube.namespace, context: kube.context, services },
    services.map((s) => formatStatus(s, now)).join('\n\n'),
  );
  return { kind: 'succeeded' };
}
