// Which connection a single statement goes to: a shared pipelined lane or a pooled client. Pure,
// so the rule is tested as a table (test/route.test.ts); postgres.ts does the I/O.

/**
 * A statement is "large" when it returns more rows than this on average. Pipelining saves the
 * round trip and the pool checkout, which is most of the cost of a one-row statement (Node CPU
 * per get-by-id halved on the bench machine) but little of a 50-row page, whose cost is parsing
 * rows. And a lane delivers several pages per socket read: more young objects survive each
 * scavenge, V8 grows the young generation, and RSS under load rose by 60 MB (bench/README.md).
 */
export const LARGE_RESULT_ROWS = 8;

/**
 * How many large statements a lane takes when every pooled client is busy: one, so large
 * statements in flight are as many as the connections, as on a plain pool, and a socket read
 * carries no more pages than a pooled client's.
 */
export const LARGE_ON_LANE = 1;

export interface RouteState {
  /** Whether this statement returned more than LARGE_RESULT_ROWS rows on average so far. */
  large: boolean;
  /** Pooled clients in use (single statements and transactions), and the pool's size. */
  poolBusy: number;
  poolSize: number;
  /** Statements in flight on each lane; empty when pipelining is off. */
  laneInFlight: readonly number[];
  /** Large statements in flight on each lane. */
  laneLarge: readonly number[];
}

/**
 * Small statements go to the lane with the fewest in flight. Large ones go to a free pooled
 * client; when there is none, to a lane with room for one, else they wait for the pool.
 */
export function route(s: RouteState): number | 'pool' {
  if (s.laneInFlight.length === 0) return 'pool';
  let lane = 0;
  for (let i = 1; i < s.laneInFlight.length; i++) {
    if (s.laneInFlight[i]! < s.laneInFlight[lane]!) lane = i;
  }
  if (!s.large) return lane;
  if (s.poolBusy < s.poolSize) return 'pool';
  let roomy = -1;
  for (let i = 0; i < s.laneLarge.length; i++) {
    if (
      s.laneLarge[i]! < LARGE_ON_LANE &&
      (roomy < 0 || s.laneInFlight[i]! < s.laneInFlight[roomy]!)
    )
      roomy = i;
  }
  return roomy < 0 ? 'pool' : roomy;
}

/** Statement texts whose size is remembered; the repositories have a few dozen. */
const MAX_STATEMENTS = 1000;

/** The average number of rows each statement text returns, as an exponential moving average. */
export class ResultSizes {
  readonly #rows = new Map<string, number>();

  /** Unknown statements count as small: one answer on a lane teaches the rest. */
  isLarge(text: string): boolean {
    return (this.#rows.get(text) ?? 0) > LARGE_RESULT_ROWS;
  }

  record(text: string, rows: number): void {
    const before = this.#rows.get(text);
    if (before === undefined && this.#rows.size >= MAX_STATEMENTS) this.#rows.clear();
    this.#rows.set(text, before === undefined ? rows : before + (rows - before) / 8);
  }
}
