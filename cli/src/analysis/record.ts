// The analysis result as recorded on the revision: an annotation on the Deployment, which the
// Deployment controller copies onto the new ReplicaSet, so `shiftops history` can show what each
// release's analysis said. Pure: encode, parse, summarize.
import { ms, percent, type Evidence, type GroupSummary } from './decide.js';

export const ANALYSIS_ANNOTATION = 'shiftops.dev/analysis';

export type AnalysisMode = 'auto' | 'required' | 'off';

export type AnalysisResult =
  /** No worse than the old pods over the whole window. */
  | 'pass'
  /** Worse beyond a threshold with enough evidence: rolled back. */
  | 'fail'
  /** Too little traffic to judge. */
  | 'inconclusive'
  /** Prometheus could not be asked (unreachable, forbidden, bad answer). */
  | 'unavailable'
  /** Not analysed: --analysis=off, or nothing to analyse (e.g. a Recreate strategy). */
  | 'skipped'
  /**
   * Written with the image; replaced when the analysis decides. Left on a revision whose first
   * pod never turned Ready, or whose CLI stopped during the window.
   */
  | 'unfinished';

export interface AnalysisRecord {
  /** The release the record is about: a record copied onto a later revision by another tool is ignored. */
  image: string;
  result: AnalysisResult;
  mode: AnalysisMode;
  /** Why, in words (the failing comparisons, the shortage, the error). */
  reason?: string;
  /** What the CLI did about it. */
  action: 'resumed' | 'rolled-back' | 'none';
  windowSeconds?: number;
  /** Seconds from the first new pod Ready to the decision. */
  decidedAfterSeconds?: number;
  new?: GroupSummary;
  old?: GroupSummary;
  errorPValue?: number;
  latencyPValue?: number;
  latencyBound?: number | null;
  at: string;
}

export function withEvidence(evidence: Evidence | undefined): Partial<AnalysisRecord> {
  if (!evidence) return {};
  return {
    new: evidence.new,
    old: evidence.old,
    errorPValue: Number(evidence.errorPValue.toPrecision(3)),
    latencyPValue: Number(evidence.latencyPValue.toPrecision(3)),
    latencyBound: evidence.latencyBound,
  };
}

export function encodeRecord(r: AnalysisRecord): Record<string, string> {
  return { [ANALYSIS_ANNOTATION]: JSON.stringify(r) };
}

/** The record on a ReplicaSet, if it is about that ReplicaSet's image. */
export function parseRecord(
  annotations: Record<string, string> | undefined,
  image: string | undefined,
): AnalysisRecord | undefined {
  const raw = annotations?.[ANALYSIS_ANNOTATION];
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as AnalysisRecord;
    if (typeof r.result !== 'string' || r.image !== image) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

/** "errors 0.1% (1/620) vs 0.2% (4/1850), p95 48ms (620) vs 49ms (1850)" */
export function formatNumbers(n: GroupSummary | undefined, o: GroupSummary | undefined): string {
  if (!n || !o) return '';
  return `errors ${percent(n.errorRate)} (${n.errors}/${n.requests}) vs ${percent(o.errorRate)} (${o.errors}/${o.requests}), p95 ${ms(n.p95)} vs ${ms(o.p95)} (new ${n.pods} pod(s) vs old ${o.pods})`;
}

/** The history table's ANALYSIS cell: short, with the numbers that decided it. */
export function summarizeRecord(r: AnalysisRecord | undefined): string {
  if (!r) return '-';
  const n = r.new;
  const o = r.old;
  const numbers =
    n && o
      ? `err ${percent(n.errorRate)} vs ${percent(o.errorRate)}, p95 ${ms(n.p95)} vs ${ms(o.p95)}, ${n.requests}/${o.requests} req`
      : '';
  const label = r.result === 'fail' ? 'FAIL' : r.result;
  if (r.result === 'skipped') return `skipped (${r.reason ?? r.mode})`;
  if (r.result === 'unfinished') return 'unfinished';
  return numbers ? `${label}: ${numbers}` : `${label}${r.reason ? ` (${r.reason})` : ''}`;
}
