// Measured runs for the scale suite: a tool run as its own identity (a client certificate of its
// own, in the developers group, so the audit log holds exactly its requests), timed, with its
// peak RSS sampled from /proc, and its API requests counted from the audit log afterwards.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, DEVELOPERS_GROUP, explain, run, sleep, type Run } from '../lib/cluster.js';
import { userKubeconfig } from '../lib/developer.js';
import { countRequests, parseAuditLog, type RequestCounts } from './audit.js';

export const auditLogPath = () => process.env.SHIFTOPS_AUDIT_LOG ?? '';

/** A fresh identity for one run: its name is how its requests are told apart in the audit log. */
export function identity(user: string): { user: string; kubeconfig: string } {
  return { user, kubeconfig: userKubeconfig(user, DEVELOPERS_GROUP) };
}

/**
 * The user's requests in the audit log, once they stop changing: a watch is logged when it ends,
 * which the API server notices a moment after the client closed the connection.
 */
export async function requestsOf(user: string, settleMs = 2000): Promise<RequestCounts> {
  const path = auditLogPath();
  if (!existsSync(path)) throw new Error(`no audit log at ${path} (SHIFTOPS_AUDIT_LOG)`);
  let last = -1;
  for (let i = 0; i < 30; i++) {
    const counts = countRequests(parseAuditLog(readFileSync(path, 'utf8')), user);
    if (counts.total === last && counts.total > 0) return counts;
    last = counts.total;
    await sleep(settleMs);
  }
  throw new Error(`the audit log's count for ${user} did not settle (last ${last})`);
}

export interface Timed {
  runs: Run[];
  /** ms from the first start to the mark (or to the end of the run that gives the verdict) */
  verdictMs: number;
  doneMs: number;
  peakRssKb: number;
}

/** The built CLI as `user`, with the suite's fixed request timeout (the watch renewal model's input). */
export function shiftopsAs(kubeconfig: string, namespace: string, args: string[], mark?: RegExp) {
  return run(
    process.execPath,
    [CLI, '--kubeconfig', kubeconfig, '-n', namespace, '--request-timeout', '30s', ...args],
    { env: { KUBECONFIG: '' }, timeoutMs: 900_000, peakRss: true, ...(mark ? { mark } : {}) },
  );
}

/**
 * kubectl as the identity of `kubeconfig`, with a discovery cache of that identity's own (next to
 * its kubeconfig): cold at the run's first command, as on a fresh CI runner, and never the
 * machine's ~/.kube/cache, whose state would change the counts from one run to the next.
 */
export function kubectlAs(kubeconfig: string, namespace: string, args: string[]) {
  const cache = join(dirname(kubeconfig), 'kube-cache');
  return run(
    'kubectl',
    ['--kubeconfig', kubeconfig, '--cache-dir', cache, '-n', namespace, ...args],
    {
      timeoutMs: 900_000,
      peakRss: true,
    },
  );
}

export const peak = (runs: readonly Run[]) => Math.max(0, ...runs.map((r) => r.peakRssKb ?? 0));

/** Throws with the run's output unless it exited 0. */
export function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(explain(r, what));
  return r;
}
