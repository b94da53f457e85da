// What the test cluster's Prometheus scrapes on the real node, as pure functions: the node's pods
// as file_sd target groups carrying the labels Prometheus' kubernetes_sd (role: pod) gives a
// target, and kwokctl's prometheus.yaml with deploy/components/prometheus-scrape's job added, its
// kubernetes_sd replaced by those targets. Debian's Prometheus is built without Kubernetes
// service discovery (its NEWS: "Kubernetes support has been completely removed"), so
// prometheus-sd.ts stands in for it; the shipped relabelling then runs unchanged.
import type { V1Pod } from '@kubernetes/client-node';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Prometheus' strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes `_`. */
export const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

const META = '__meta_kubernetes_';

/**
 * One group per container port of each pod on `nodeName` that has an IP inside the pod range
 * (`podIpPrefix`, e.g. "10.244.0."), as kubernetes_sd makes them; finished pods are left out.
 */
export function podTargets(
  pods: readonly V1Pod[],
  nodeName: string,
  podIpPrefix: string,
): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    const phase = pod.status?.phase ?? 'Unknown';
    if (pod.spec?.nodeName !== nodeName || !ip?.startsWith(podIpPrefix)) continue;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const ready = (pod.status?.conditions ?? []).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    );
    const podLabels: Record<string, string> = {
      [`${META}namespace`]: pod.metadata?.namespace ?? '',
      [`${META}pod_name`]: pod.metadata?.name ?? '',
      [`${META}pod_ip`]: ip,
      [`${META}pod_node_name`]: nodeName,
      [`${META}pod_phase`]: phase,
      [`${META}pod_ready`]: String(ready),
    };
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
      podLabels[`${META}pod_label_${sanitize(k)}`] = v;
      podLabels[`${META}pod_labelpresent_${sanitize(k)}`] = 'true';
    }
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        groups.push({
          targets: [`${ip}:${p.containerPort}`],
          labels: {
            ...podLabels,
            [`${META}pod_container_name`]: c.name,
            [`${META}pod_container_port_name`]: p.name ?? '',
            [`${META}pod_container_port_number`]: String(p.containerPort),
            [`${META}pod_container_port_protocol`]: p.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return groups.sort((a, b) => a.targets[0]!.localeCompare(b.targets[0]!));
}

export interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: unknown;
  file_sd_configs?: unknown;
  [key: string]: unknown;
}
export interface PrometheusConfig {
  scrape_configs?: ScrapeConfig[];
  [key: string]: unknown;
}

/**
 * `prometheus` (kwokctl's config) with every job of `component` (scrape-config.yaml) added, or
 * replaced when already there (so running it twice changes nothing), each reading its targets
 * from `targetsFile` instead of the Kubernetes API.
 */
export function withPodJobs(
  prometheus: PrometheusConfig,
  component: PrometheusConfig,
  targetsFile: string,
): PrometheusConfig {
  const jobs = (component.scrape_configs ?? []).map((job) => {
    const { kubernetes_sd_configs: _dropped, ...rest } = job;
    return { ...rest, file_sd_configs: [{ files: [targetsFile], refresh_interval: '30s' }] };
  });
  if (jobs.length === 0) throw new Error('the component has no scrape_configs');
  const names = new Set(jobs.map((j) => j.job_name));
  const kept = (prometheus.scrape_configs ?? []).filter((j) => !names.has(j.job_name));
  return { ...prometheus, scrape_configs: [...kept, ...jobs] };
}
