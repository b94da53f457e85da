// Steady HTTP load from this machine to an address of the cluster (a Service's ClusterIP, or the
// Ingress controller with a Host header: `host`), with every outcome counted: each response by
// status, each connection error by code. A new TCP connection per request (like a curl loop)
// unless keepAlive is set. Bounded in rate, in concurrency and in time: it stops by itself after
// maxMs even if nobody calls stop().
// GETs of one URL by default; `request` makes each request something else (a POST with its own
// body and Idempotency-Key), and `onOutcome` hands every answer, with its body, to the caller.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { apiHeaders } from './realnode.js';

export interface TrafficResult {
  sent: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  errors: Record<string, number>;
  /** the first few failures, with the time since the start */
  firstFailures: string[];
  ms: number;
  /** response time percentiles of the successful requests, in ms */
  p50: number;
  p99: number;
}

export interface TrafficOptions {
  /** requests started per second (evenly spaced) */
  rate: number;
  /** most requests in flight at once; a request that would exceed it waits for the next tick */
  concurrency?: number;
  timeoutMs?: number;
  keepAlive?: boolean;
  /** hard bound on the duration */
  maxMs?: number;
  /** the Host header, for a virtual host of the Ingress controller */
  host?: string;
  /** what request n (0, 1, ...) sends; default a GET of the URL */
  request?: (n: number) => TrafficRequest;
  /** every request's outcome: its answer with the body, or its connection error */
  onOutcome?: (o: TrafficOutcome) => void;
}

export interface TrafficRequest {
  method?: string;
  /** path and query, in place of the URL's */
  path?: string;
  /** besides apiHeaders() */
  headers?: Record<string, string>;
  body?: string;
}

export interface TrafficOutcome {
  n: number;
  request: TrafficRequest;
  /** ms since the traffic started: when the request was sent, when its outcome was known */
  sentMs: number;
  doneMs: number;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  /** the connection error's code (ECONNREFUSED, TIMEOUT, ...) */
  error?: string;
}

export class Traffic {
  private readonly result: TrafficResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    byStatus: {},
    errors: {},
    firstFailures: [],
    ms: 0,
    p50: 0,
    p99: 0,
  };
  private readonly latencies: number[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private readonly agent: Agent;
  private drained: (() => void) | undefined;

  private constructor(
    private readonly url: URL,
    private readonly opts: TrafficOptions,
  ) {
    this.agent = new Agent({
      keepAlive: opts.keepAlive ?? false,
      maxSockets: opts.concurrency ?? 16,
    });
  }

  static start(url: string, opts: TrafficOptions): Traffic {
    const t = new Traffic(new URL(url), opts);
    const every = Math.max(1, Math.round(1000 / opts.rate));
    t.timer = setInterval(() => t.tick(), every);
    return t;
  }

  private tick(): void {
    if (Date.now() - this.started > (this.opts.maxMs ?? 300_000)) {
      void this.stop();
      return;
    }
    if (this.inFlight >= (this.opts.concurrency ?? 16)) return;
    this.one();
  }

  private fail(what: string): void {
    this.result.failed++;
    if (this.result.firstFailures.length < 10)
      this.result.firstFailures.push(
        `${((Date.now() - this.started) / 1000).toFixed(1)} s: ${what}`,
      );
  }

  private one(): void {
    const n = this.result.sent;
    this.inFlight++;
    this.result.sent++;
    const t0 = Date.now();
    const spec = this.opts.request?.(n) ?? {};
    const outcome = (o: Partial<TrafficOutcome>) =>
      this.opts.onOutcome?.({
        n,
        request: spec,
        sentMs: t0 - this.started,
        doneMs: Date.now() - this.started,
        ...o,
      });
    let settled = false;
    const done = () => {
      if (settled) return false;
      settled = true;
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
      return true;
    };
    const url = spec.path ? new URL(spec.path, this.url) : this.url;
    const req = request(url, {
      agent: this.agent,
      method: spec.method ?? 'GET',
      headers: {
        ...apiHeaders(),
        ...(this.opts.host ? { host: this.opts.host } : {}),
        ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...spec.headers,
      },
      timeout: this.opts.timeoutMs ?? 2000,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      if (this.opts.onOutcome) res.on('data', (c: Buffer) => chunks.push(c));
      else res.resume();
      res.on('end', () => {
        if (!done()) return;
        const code = String(res.statusCode);
        this.result.byStatus[code] = (this.result.byStatus[code] ?? 0) + 1;
        if (res.statusCode && res.statusCode < 400) {
          this.result.ok++;
          this.latencies.push(Date.now() - t0);
        } else this.fail(`HTTP ${code}`);
        outcome({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', (err) => this.error(err, done, outcome));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => this.error(err, done, outcome));
    req.end(spec.body);
  }

  private error(
    err: Error,
    done: () => boolean,
    outcome: (o: Partial<TrafficOutcome>) => void,
  ): void {
    if (!done()) return;
    const code = (err as { code?: string }).code ?? err.message;
    this.result.errors[code] = (this.result.errors[code] ?? 0) + 1;
    this.fail(code);
    outcome({ error: code });
  }

  /** The counts so far (sent includes requests in flight): differences of two are a phase's. */
  counts(): { sent: number; ok: number; failed: number } {
    return { sent: this.result.sent, ok: this.result.ok, failed: this.result.failed };
  }

  private stopping: Promise<TrafficResult> | undefined;

  /** Stops sending, waits for the requests in flight, returns the counts. */
  stop(): Promise<TrafficResult> {
    return (this.stopping ??= this.finish());
  }

  private async finish(): Promise<TrafficResult> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.inFlight > 0) await new Promise<void>((r) => (this.drained = r));
    this.agent.destroy();
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    this.result.ms = Date.now() - this.started;
    this.result.p50 = pct(0.5);
    this.result.p99 = pct(0.99);
    return this.result;
  }
}

export const describeTraffic = (r: TrafficResult) =>
  `${r.sent} requests in ${(r.ms / 1000).toFixed(1)} s, ${r.ok} ok, ${r.failed} failed` +
  ` (statuses ${JSON.stringify(r.byStatus)}, errors ${JSON.stringify(r.errors)}; p50 ${r.p50} ms, p99 ${r.p99} ms)` +
  (r.firstFailures.length ? `; first failures: ${r.firstFailures.join('; ')}` : '');
