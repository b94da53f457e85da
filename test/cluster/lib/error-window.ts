// How much traffic a ratio alert over a window (ShiftopsHighErrorRate: 5xx / all over 5 m, by
// service) needs to see a fault, and to see it gone. The window also holds the requests from
// before the fault (other tests' traffic, other releases), which dilute a release's errors: a
// release failing 10% of requests crosses 5% only once it has served as many requests as the
// window held before it. Pure: the cluster test measures the window and sizes its load with these.

export interface WindowCounts {
  /** requests in the window */
  total: number;
  /** of them, 5xx */
  errors: number;
}

/**
 * Requests a release that fails `share` of them must serve for the window's error ratio to pass
 * `threshold`, given what the window holds now: (errors + share n) / (total + n) > threshold, so
 * n > (threshold total - errors) / (share - threshold); times `margin`, rounded up, 0 if the
 * window is over already. Assumes nothing leaves the window meanwhile (old requests leaving only
 * help).
 */
export function faultRequestsNeeded(
  w: WindowCounts,
  share: number,
  threshold: number,
  margin: number,
): number {
  if (!(share > threshold))
    throw new Error(`a release failing ${share} of requests never passes ${threshold}`);
  const n = (threshold * w.total - w.errors) / (share - threshold);
  return n <= 0 ? 0 : Math.ceil(n * margin);
}

/**
 * Good requests the window needs after the fault for its error ratio to fall under `threshold`:
 * errors / (total + g) < threshold, so g > errors / threshold - total; times `margin`, rounded
 * up, 0 if it is under already.
 */
export function goodRequestsNeeded(w: WindowCounts, threshold: number, margin: number): number {
  const g = w.errors / threshold - w.total;
  return g <= 0 ? 0 : Math.ceil(g * margin);
}

/** The whole requests per second, within [min, max], that serve n requests in `seconds`. */
export function rateFor(n: number, seconds: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.ceil(n / seconds)));
}

/**
 * The error share a release's FAULT in cluster/images/releases.tsv gives it (`errors:10` -> 0.1);
 * throws if the tag is not there or has no errors fault.
 */
export function releaseErrorShare(releasesTsv: string, tag: string): number {
  for (const line of releasesTsv.split('\n')) {
    const [t, fault] = line.trim().split(/\s+/);
    if (t !== tag || line.trim().startsWith('#')) continue;
    const m = /^errors:(\d+(?:\.\d+)?)$/.exec(fault ?? '');
    if (!m) throw new Error(`release ${tag} has fault ${fault ?? '(none)'}, not errors:N`);
    return Number(m[1]) / 100;
  }
  throw new Error(`release ${tag} is not in releases.tsv`);
}
