// Holding a rollout at one new pod, as JSON patches. Pure. The deploy patch narrows the rolling
// update to one pod at a time (maxSurge 1, maxUnavailable 0) and lengthens minReadySeconds, so the
// controller creates exactly one new pod and cannot move on before the CLI pauses the Deployment
// as soon as that pod is Ready. The original settings travel in an annotation, so resuming, a
// rollback, or a person after a crashed CLI (`shiftops rollback`) can put them back.
import type { V1Deployment, V1DeploymentStrategy } from '@kubernetes/client-node';

export const HOLD_ANNOTATION = 'shiftops.dev/analysis-hold';
/** Long enough that the pause (sent when the pod turns Ready) always lands first. */
export const HOLD_MIN_READY_SECONDS = 30;

export interface Hold {
  strategy: V1DeploymentStrategy;
  minReadySeconds: number;
}

/** JSON Pointer escaping (RFC 6901) for annotation keys. */
export function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

export type HoldPlan = { ok: true; hold: Hold; ops: object[] } | { ok: false; reason: string };

/** The extra ops of the deploy patch that make the rollout stop after one new pod. */
export function holdOps(deployment: V1Deployment): HoldPlan {
  const strategy = deployment.spec?.strategy ?? { type: 'RollingUpdate' };
  if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return {
      ok: false,
      reason: `the Deployment's strategy is ${strategy.type}: it replaces every pod at once, so there is no single new pod to analyse`,
    };
  }
  const minReadySeconds = deployment.spec?.minReadySeconds ?? 0;
  const hold: Hold = { strategy, minReadySeconds };
  return {
    ok: true,
    hold,
    ops: [
      {
        op: 'add',
        path: '/spec/strategy',
        value: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
      {
        op: 'add',
        path: '/spec/minReadySeconds',
        value: Math.max(minReadySeconds, HOLD_MIN_READY_SECONDS),
      },
    ],
  };
}

export function holdAnnotation(hold: Hold): Record<string, string> {
  return { [HOLD_ANNOTATION]: JSON.stringify(hold) };
}

/** The hold recorded on a Deployment, if a shiftops analysis is (or was left) holding it. */
export function parseHold(deployment: V1Deployment): Hold | undefined {
  const raw = deployment.metadata?.annotations?.[HOLD_ANNOTATION];
  if (!raw) return undefined;
  try {
    const h = JSON.parse(raw) as Partial<Hold>;
    if (typeof h.strategy !== 'object' || h.strategy === null) return undefined;
    return { strategy: h.strategy, minReadySeconds: Number(h.minReadySeconds) || 0 };
  } catch {
    return undefined;
  }
}

/** Pause once the first new pod is Ready (guarded: only our own, still-held rollout). */
export function pausePatch(deployment: V1Deployment): object[] {
  return [
    {
      op: 'test',
      path: `/metadata/annotations/${pointerSegment(HOLD_ANNOTATION)}`,
      value: deployment.metadata?.annotations?.[HOLD_ANNOTATION],
    },
    { op: 'add', path: '/spec/paused', value: true },
  ];
}

/** The ops that undo the hold: unpause and restore the strategy and minReadySeconds. */
export function releaseOps(hold: Hold): object[] {
  return [
    { op: 'add', path: '/spec/paused', value: false },
    { op: 'add', path: '/spec/strategy', value: hold.strategy },
    { op: 'add', path: '/spec/minReadySeconds', value: hold.minReadySeconds },
  ];
}

/** Resume after a passed (or waived) analysis, recording its result in the same write. */
export function resumePatch(hold: Hold, annotations: Record<string, string>): object[] {
  return [
    ...releaseOps(hold),
    { op: 'remove', path: `/metadata/annotations/${pointerSegment(HOLD_ANNOTATION)}` },
    ...annotationOps(annotations),
  ];
}

export function annotationOps(annotations: Record<string, string>): object[] {
  return Object.entries(annotations).map(([k, v]) => ({
    op: 'add',
    path: `/metadata/annotations/${pointerSegment(k)}`,
    value: v,
  }));
}
