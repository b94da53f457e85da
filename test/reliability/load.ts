import { Agent, request } from 'node:http';

export interface LoadResult {
  total: number;
  byStatus: Map<number | string, number>;
  failures: string[];
}

/**
 * Closed-loop load: `concurrency` workers each send one request after the other over kept-alive
 * connections until stop() is called. `next(i)` says what worker i sends next.
 */
export function startLoad(
  baseUrl: string,
  concurrency: number,
  next: (worker: number, seq: number) => { method: string; path: string; body?: unknown },
  onResponse?: (
    req: { method: string; path: string; body?: unknown },
    status: number,
    body: string,
  ) => void,
  /** Sent with every request (e.g. the Authorization header). */
  headers: Record<string, string> = {},
) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { total: 0, byStatus: new Map(), failures: [] };
  let running = true;
  const send = (r: { method: string; path: string; body?: unknown }) =>
    new Promise<void>((resolve) => {
      const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
      const req = request(
        `${baseUrl}${r.path}`,
        {
          method: r.method,
          agent,
          headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            result.total++;
            result.byStatus.set(status, (result.byStatus.get(status) ?? 0) + 1);
            onResponse?.(r, status, body);
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        result.total++;
        result.byStatus.set('error', (result.byStatus.get('error') ?? 0) + 1);
        result.failures.push(`${r.method} ${r.path}: ${err.message}`);
        resolve();
      });
      req.end(payload);
    });
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let seq = 0; running; seq++) await send(next(w, seq));
  });
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return result;
    },
  };
}

export const summary = (r: LoadResult) => [...r.byStatus].map(([s, n]) => `${s}×${n}`).join(' ');
