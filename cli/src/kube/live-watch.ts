// One watch request with bounds, shaped like client-node's Watch so ListWatch can drive it (it
// keeps the resourceVersion, resumes from it, and re-lists on 410 Gone). Hand-written because
// client-node 1.4's Watch cannot be bounded: its own 30 s timeout signal is overwritten before use,
// and its promise does not settle until response headers arrive, so a server that accepts and
// never answers hangs it for good. Here: headers within the request timeout, then some sign of life
// (event, bookmark, end) within the liveness limit, else the request is dropped and done() is told
// why, so the caller reconnects.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import { serverWatchTimeoutSeconds, type Timeouts } from './timeouts.js';

export type WatchCallback = (phase: string, obj: any, raw: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
export type DoneCallback = (err: unknown) => void;

/** No event, bookmark or end of the watch within the liveness limit. */
export class WatchStalledError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly ms: number) {
    super(`no event or bookmark for ${ms / 1000}s`);
  }
}

export class WatchHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface LiveWatchHooks {
  /** Response headers arrived: the watch is established. */
  onEstablished?: () => void;
  /** The server said the resourceVersion is too old (410 Gone): ListWatch re-lists. */
  onGone?: () => void;
}

export class LiveWatch {
  constructor(
    private readonly kc: KubeConfig,
    private readonly timeouts: Timeouts,
    private readonly hooks: LiveWatchHooks = {},
  ) {}

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: DoneCallback,
  ): Promise<{ abort(): void }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set('timeoutSeconds', String(serverWatchTimeoutSeconds(this.timeouts)));
    for (const [k, v] of Object.entries(query))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers = { ...(opts.headers ?? {}) } as Record<string, string>;
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;

    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, { method: 'GET', agent: opts.agent, headers });
    const end = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      req.destroy();
      done(err);
    };
    const arm = (ms: number, err: () => Error) => {
      clearTimeout(timer);
      timer = setTimeout(() => end(err()), ms);
      timer.unref();
    };
    arm(this.timeouts.requestMs, () => {
      const e = new Error(`no answer within ${this.timeouts.requestMs / 1000}s`);
      (e as { code?: string }).code = 'ETIMEDOUT';
      return e;
    });
    const stalled = () => new WatchStalledError(this.timeouts.watchLivenessMs);
    req.on('socket', (s) => s.setKeepAlive(true, 30_000));
    req.on('error', end);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        if (status === 410) this.hooks.onGone?.();
        end(new WatchHttpError(status, `HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim()));
        return;
      }
      this.hooks.onEstablished?.();
      arm(this.timeouts.watchLivenessMs, stalled);
      // A clean end (the server's timeoutSeconds) resumes quietly; a cut mid-stream is an outage.
      const cut = (why: string) => new Error(`connection cut mid-watch (${why})`);
      res.on('error', (e) => end(cut(e.message)));
      res.on('close', () => end(res.complete ? null : cut('closed')));
      const lines = createInterface({ input: res });
      lines.on('error', (e) => end(cut(e.message))); // readline re-emits the stream's errors
      lines.on('line', (line) => {
        arm(this.timeouts.watchLivenessMs, stalled);
        let event: { type?: string; object?: { code?: number } };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          return; // a torn last line: the reconnect resumes from the last whole event
        }
        if (event.type === 'ERROR' && event.object?.code === 410) this.hooks.onGone?.();
        callback(event.type ?? '', event.object, event);
      });
    });
    req.end();
    return { abort: () => end(null) };
  }
}
