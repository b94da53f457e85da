// The HPA-at-scale timeline: samples of desired and ready replicas, the HPA's measured average
// CPU and the pods per zone, the checks on them (reaches its max, back to its min, the zone
// spread within the manifests' maxSkew at the peak and on the way up) and the markdown table.
// Pure: no cluster, no files.
import type { Check } from './report.js';

export interface Sample {
  /** ms since the load went up */
  t: number;
  /** What the HPA last set: the Deployment's spec.replicas. */
  desired: number;
  /** The Deployment's status.readyReplicas. */
  ready: number;
  /** The HPA's status: average CPU utilization of the pods, % of their request (undefined: no metric yet). */
  cpu: number | undefined;
  /** Scheduled, not terminating pods per zone (every zone of the cluster, 0 included). */
  zones: Record<string, number>;
  /** The emulated CPU of each pod at this moment, % of its request (the load phase). */
  load: number;
}

export interface HpaRun {
  min: number;
  max: number;
  /** The zone constraint's maxSkew, as the manifests set it. */
  maxSkew: number;
  samples: readonly Sample[];
}

/** Largest minus smallest count over the zones (an empty zone counts as 0). */
export function zoneSkew(zones: Record<string, number>): number {
  const n = Object.values(zones);
  return n.length === 0 ? 0 : Math.max(...n) - Math.min(...n);
}

const podsIn = (s: Sample) => Object.values(s.zones).reduce((a, b) => a + b, 0);
const zonesText = (z: Record<string, number>) =>
  Object.keys(z)
    .sort()
    .map((k) => z[k])
    .join('/');

export interface Summary {
  /** First sample with max replicas ready, ms after the load went up (undefined: never). */
  toMaxMs: number | undefined;
  /** First sample back at min (desired, ready and pods) after the peak, ms after the load went down. */
  backToMinMs: number | undefined;
  /** When the load went down (the first sample of the low phase). */
  loadDownMs: number | undefined;
  peakZones: Record<string, number> | undefined;
  /** Samples on the way up whose pod count first reached 1/4, 1/2 and 3/4 of max. */
  midpoints: Sample[];
}

export function summarize(r: HpaRun): Summary {
  const s = r.samples;
  const high = Math.max(...s.map((x) => x.load), 0);
  const peakAt = s.findIndex((x) => x.load === high && x.ready === r.max && x.desired === r.max);
  const peak = peakAt >= 0 ? s[peakAt] : undefined;
  // Back down counts from a peak only: a run that never got there has nothing to come back from.
  const downAt = peakAt < 0 ? -1 : s.findIndex((x, i) => i > peakAt && x.load < high);
  const down = downAt >= 0 ? s[downAt] : undefined;
  const back =
    down &&
    s.slice(downAt).find((x) => x.desired === r.min && x.ready === r.min && podsIn(x) === r.min);
  // The way up ends with the peak: a step of the HPA can jump past a midpoint (11 -> 20 pods),
  // and then the first sample at or above it is the peak itself.
  const up = s.slice(0, peakAt >= 0 ? peakAt + 1 : s.length);
  const midpoints: Sample[] = [];
  for (const f of [0.25, 0.5, 0.75]) {
    const m = up.find((x) => podsIn(x) >= Math.ceil(r.max * f) && x.load === high);
    if (m && !midpoints.includes(m)) midpoints.push(m);
  }
  return {
    toMaxMs: peak?.t,
    backToMinMs: back && down ? back.t - down.t : undefined,
    loadDownMs: down?.t,
    peakZones: peak?.zones,
    midpoints,
  };
}

/**
 * (1) max replicas ready under the high load; (2) back to min replicas (and only min pods) after
 * it drops; (3) at the peak and (4) at the midpoints of the way up, every zone's pod count within
 * maxSkew of the others. The way down is recorded, not checked: the ReplicaSet controller picks
 * the pods to delete by node and age, not by zone (spreading on scale-down is a descheduler's job).
 */
export function hpaChecks(r: HpaRun): Check[] {
  const m = summarize(r);
  const out: Check[] = [
    {
      name: `reaches its max ${r.max}`,
      ok: m.toMaxMs !== undefined,
      detail:
        m.toMaxMs === undefined
          ? `highest ready ${Math.max(0, ...r.samples.map((x) => x.ready))}`
          : `${r.max} ready after ${(m.toMaxMs / 1000).toFixed(1)} s`,
    },
    {
      name: `back to its min ${r.min}`,
      ok: m.backToMinMs !== undefined,
      detail:
        m.backToMinMs === undefined
          ? `last: desired ${r.samples.at(-1)?.desired}, ready ${r.samples.at(-1)?.ready}, pods ${r.samples.at(-1) ? podsIn(r.samples.at(-1)!) : '?'}`
          : `${r.min} after ${(m.backToMinMs / 1000).toFixed(1)} s`,
    },
    {
      name: `zone spread at the peak within maxSkew ${r.maxSkew}`,
      ok: m.peakZones !== undefined && zoneSkew(m.peakZones) <= r.maxSkew,
      detail: m.peakZones ? `pods per zone ${zonesText(m.peakZones)}` : 'no peak',
    },
  ];
  for (const f of [0.25, 0.5, 0.75]) {
    const want = Math.ceil(r.max * f);
    const s = m.midpoints.find((x) => podsIn(x) >= want);
    out.push({
      name: `zone spread on the way up at ${want}+ pods within maxSkew ${r.maxSkew}`,
      ok: s !== undefined && zoneSkew(s.zones) <= r.maxSkew,
      detail: s
        ? `${podsIn(s)} pods at ${(s.t / 1000).toFixed(1)} s: ${zonesText(s.zones)}`
        : 'not sampled',
    });
  }
  return out;
}

const cpuText = (c: number | undefined) => (c === undefined ? '-' : `${c}%`);

/** The timeline as a markdown table: the first sample, every change, and the last sample. */
export function timelineTable(samples: readonly Sample[]): string {
  const key = (s: Sample) => `${s.desired} ${s.ready} ${s.cpu} ${s.load} ${zonesText(s.zones)}`;
  const rows = samples.filter(
    (s, i) => i === 0 || i === samples.length - 1 || key(s) !== key(samples[i - 1]!),
  );
  const zones = Object.keys(samples[0]?.zones ?? {}).sort();
  return [
    `| t (s) | emulated CPU per pod | desired | ready | HPA average CPU | pods per zone (${zones.join('/')}) |`,
    '| ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (s) =>
        `| ${(s.t / 1000).toFixed(1)} | ${s.load}% | ${s.desired} | ${s.ready} | ${cpuText(s.cpu)} | ${zonesText(s.zones)} |`,
    ),
  ].join('\n');
}
