// The scale suite's results: one row per measured run, the markdown table, and the checks that
// API requests follow the rollout, not the clock. Pure: no cluster, no files.
import type { RequestCounts } from './audit.js';

export type Tool = 'shiftops' | 'kubectl';
/** good: a release that becomes Ready; bad: a crash-looping one (kwok `-crash` image). */
export type Release = 'good' | 'bad';

export interface RunResult {
  replicas: number;
  release: Release;
  tool: Tool;
  /** What the tool said: succeeded / rolled-back (shiftops), succeeded / deadline-exceeded (kubectl). */
  outcome: string;
  /** The expected outcome, and the Deployment back on the expected image with every replica ready. */
  verdictRight: boolean;
  /** From the start to the verdict: success, or the first failure report. */
  verdictMs: number;
  /** From the start to fully rolled out (good) or fully rolled back (bad). */
  doneMs: number;
  requests: RequestCounts;
  /** Peak RSS (VmHWM) of the tool's process, the largest of its processes for kubectl. */
  peakRssKb: number;
}

/** How the CLI's watches renew (cli/src/kube/timeouts.ts at the suite's --request-timeout). */
export interface WatchModel {
  /** Watch streams per watched rollout: the Deployment, its ReplicaSets, its pods. */
  streams: number;
  /** The server ends each watch after this long (80% of --request-timeout); the CLI re-watches. */
  renewalMs: number;
  /** Requests other than watches may differ from the smallest size by this many (patch retries). */
  slack: number;
}

export const WATCH_MODEL: WatchModel = { streams: 3, renewalMs: 24_000, slack: 4 };

/** Watched rollouts: the deploy, plus the rollback's own watch after a failure. */
export const watchedPhases = (r: Pick<RunResult, 'release'>) => (r.release === 'bad' ? 2 : 1);

export const nonWatchRequests = (r: RunResult) => r.requests.total - (r.requests.byVerb.watch ?? 0);

/** The most watch requests a polling-free CLI makes in a run: each stream once per phase, plus one renewal per stream each renewal period. */
export function watchBound(r: RunResult, m: WatchModel = WATCH_MODEL): number {
  return m.streams * (watchedPhases(r) + Math.ceil(r.doneMs / m.renewalMs));
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * For the shiftops runs: (1) the verdict is right at every size; (2) requests other than watches
 * are the same at every size as at the smallest, within the slack: they are a fixed set of calls
 * (access reviews, get, lists, patch, and the failure's diagnosis and rollback), so anything that
 * scales with replicas or time there is a bug; (3) watch requests stay within watchBound: the
 * streams and their timed renewals, nothing per event; (4) requests per replica at the largest
 * size are no more than at the smallest, i.e. cost does not grow with replicas.
 */
export function checks(runs: readonly RunResult[], m: WatchModel = WATCH_MODEL): Check[] {
  const out: Check[] = [];
  const ours = runs.filter((r) => r.tool === 'shiftops');
  for (const r of ours) {
    out.push({
      name: `verdict right: ${r.release} release at ${r.replicas} replicas`,
      ok: r.verdictRight,
      detail: `outcome ${r.outcome}`,
    });
    const bound = watchBound(r, m);
    const watches = r.requests.byVerb.watch ?? 0;
    out.push({
      name: `watches within the renewal bound: ${r.release} at ${r.replicas}`,
      ok: watches <= bound,
      detail: `${watches} watch requests, bound ${bound} (${m.streams} streams x (${watchedPhases(r)} phases + ${(r.doneMs / 1000).toFixed(1)} s / ${m.renewalMs / 1000} s))`,
    });
  }
  for (const release of ['good', 'bad'] as const) {
    const rows = ours.filter((r) => r.release === release).sort((a, b) => a.replicas - b.replicas);
    const smallest = rows[0];
    const largest = rows[rows.length - 1];
    if (!smallest || !largest || smallest === largest) continue;
    const base = nonWatchRequests(smallest);
    for (const r of rows.slice(1)) {
      const n = nonWatchRequests(r);
      out.push({
        name: `non-watch requests constant: ${release} at ${r.replicas} vs ${smallest.replicas}`,
        ok: n <= base + m.slack,
        detail: `${n} vs ${base} (slack ${m.slack})`,
      });
    }
    const per = (r: RunResult) => r.requests.total / r.replicas;
    out.push({
      name: `requests per replica do not grow: ${release}, ${largest.replicas} vs ${smallest.replicas}`,
      ok: per(largest) <= per(smallest),
      detail: `${per(largest).toFixed(3)} vs ${per(smallest).toFixed(3)} requests per replica`,
    });
  }
  return out;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const verbs = (c: RequestCounts) =>
  Object.entries(c.byVerb)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');

/** The results as a markdown table, sorted by replicas, release, tool. */
export function markdownTable(runs: readonly RunResult[]): string {
  const order = (r: RunResult) => [
    r.replicas,
    r.release === 'good' ? 0 : 1,
    r.tool === 'shiftops' ? 0 : 1,
  ];
  const sorted = [...runs].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  const header =
    '| Replicas | Release | Tool | Outcome | Time to verdict | Time to rolled out / back | API requests | by verb | Peak RSS |';
  const rule = '| ---: | --- | --- | --- | ---: | ---: | ---: | --- | ---: |';
  const rows = sorted.map(
    (r) =>
      `| ${r.replicas} | ${r.release} | ${r.tool} | ${r.outcome}${r.verdictRight ? '' : ' (WRONG)'} | ${secs(r.verdictMs)} | ${secs(r.doneMs)} | ${r.requests.total} | ${verbs(r.requests)} | ${mb(r.peakRssKb)} |`,
  );
  return [header, rule, ...rows].join('\n');
}
