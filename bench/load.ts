// The load generator, in its own process so it shares no event loop with a server: bench/run.ts
// starts it once and sends it one spec at a time; it drives autocannon for a bounded time.
import { createHash, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { requestHeaders } from './requests.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /** Path, where {user} is a random seeded user id and {location} a random location. */
  path: string;
  /** POST a new shift of a new user (never overlapping) instead of a GET. */
  createShift?: { startsAt: string; endsAt: string };
  users: number;
  locations: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

/** The id the services' seed gives user i. */
export function seededUserId(i: number): string {
  const h = createHash('md5').update(`shiftops-user-${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const pick = (n: number) => 1 + Math.floor(Math.random() * n);

async function run(spec: LoadSpec): Promise<LoadResult> {
  const shift = spec.createShift;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    requests: [
      {
        method: shift ? 'POST' : 'GET',
        headers: requestHeaders({ json: !!shift }),
        setupRequest(req) {
          req.path = spec.path
            .replace('{user}', () => seededUserId(pick(spec.users)))
            .replace('{location}', () => String(pick(spec.locations)));
          if (shift) {
            req.body = JSON.stringify({
              userId: randomUUID(),
              locationId: 1,
              position: 'cook',
              startsAt: shift.startsAt,
              endsAt: shift.endsAt,
              breakMinutes: 30,
              notes: 'bench',
              published: false,
            });
          }
          return req;
        },
      },
    ],
  });
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

// Started once with an IPC channel by bench/run.ts: one spec in, one result out, in turn.
process.on('message', (spec: LoadSpec) => {
  run(spec).then(
    (result) => process.send!(result),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
});
