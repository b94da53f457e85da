// HPA metrics as "current / target" rows, for CPU and custom metrics alike (kubectl describe hpa's
// view, minus the noise). Pure.
import type {
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
  V2MetricStatus,
  V2MetricTarget,
  V2MetricValueStatus,
} from '@kubernetes/client-node';
import type { HpaStatus, MetricRow } from './format.js';

function metricKey(m: V2MetricSpec | V2MetricStatus): string {
  switch (m.type) {
    case 'Resource':
      return `resource ${m.resource?.name}`;
    case 'ContainerResource':
      return `resource ${m.containerResource?.name} (container ${m.containerResource?.container})`;
    case 'Pods':
      return `pods ${m.pods?.metric.name}`;
    case 'Object':
      return `object ${m.object?.describedObject.kind}/${m.object?.describedObject.name} ${m.object?.metric.name}`;
    case 'External':
      return `external ${m.external?.metric.name}`;
    default:
      return m.type;
  }
}

function quantity(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function formatTarget(t: V2MetricTarget | undefined): string {
  if (!t) return '?';
  if (t.type === 'Utilization') return `${t.averageUtilization ?? '?'}%`;
  if (t.type === 'AverageValue') return `${quantity(t.averageValue) ?? '?'} (avg)`;
  return quantity(t.value) ?? '?';
}

function formatCurrent(
  c: V2MetricValueStatus | undefined,
  target: V2MetricTarget | undefined,
): string | undefined {
  if (!c) return undefined;
  if (target?.type === 'Utilization' && c.averageUtilization !== undefined)
    return `${c.averageUtilization}%`;
  if (target?.type === 'AverageValue' && c.averageValue !== undefined)
    return `${quantity(c.averageValue)} (avg)`;
  return (
    quantity(c.value) ??
    quantity(c.averageValue) ??
    (c.averageUtilization !== undefined ? `${c.averageUtilization}%` : undefined)
  );
}

function specTarget(m: V2MetricSpec): V2MetricTarget | undefined {
  return (
    m.resource?.target ??
    m.containerResource?.target ??
    m.pods?.target ??
    m.object?.target ??
    m.external?.target
  );
}

function statusCurrent(m: V2MetricStatus): V2MetricValueStatus | undefined {
  return (
    m.resource?.current ??
    m.containerResource?.current ??
    m.pods?.current ??
    m.object?.current ??
    m.external?.current
  );
}

export function hpaMetrics(hpa: V2HorizontalPodAutoscaler): MetricRow[] {
  const current = new Map(
    (hpa.status?.currentMetrics ?? []).map((m) => [metricKey(m), statusCurrent(m)]),
  );
  return (hpa.spec?.metrics ?? []).map((m) => {
    const key = metricKey(m);
    const target = specTarget(m);
    const now = formatCurrent(current.get(key), target);
    return {
      name: key,
      target: formatTarget(target),
      ...(now !== undefined ? { current: now } : {}),
    };
  });
}

export function hpaStatus(hpa: V2HorizontalPodAutoscaler): HpaStatus {
  return {
    name: hpa.metadata?.name ?? '',
    ...(hpa.spec?.minReplicas !== undefined ? { minReplicas: hpa.spec.minReplicas } : {}),
    maxReplicas: hpa.spec?.maxReplicas ?? 0,
    ...(hpa.status?.currentReplicas !== undefined
      ? { currentReplicas: hpa.status.currentReplicas }
      : {}),
    ...(hpa.status?.desiredReplicas !== undefined
      ? { desiredReplicas: hpa.status.desiredReplicas }
      : {}),
    metrics: hpaMetrics(hpa),
  };
}
