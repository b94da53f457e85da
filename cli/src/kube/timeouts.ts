// Bounds on every wait for the API server. client-node 1.4 sets none: a request to a server that
// accepts the connection and never answers waits forever, and one whose packets are dropped waits
// for the OS TCP timeout. A KubeConfig subclass adds, on every generated API call, a connect
// timeout (TCP + TLS handshake, on the agent's sockets) and an abort signal for the whole call;
// watches get the same connect timeout and their own liveness rule (live-watch.ts).
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

export interface Timeouts {
  /** TCP connect plus TLS handshake. */
  connectMs: number;
  /** One API call, from connect to the last byte of the answer. */
  requestMs: number;
  /** A watch with no event, bookmark or end for this long is dead and re-established. */
  watchLivenessMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;
const MAX_CONNECT_MS = 10_000;

/** --request-timeout bounds everything; connecting gets at most 10 s of it. */
export function timeoutsFor(requestTimeoutSeconds: number): Timeouts {
  const requestMs = requestTimeoutSeconds * 1000;
  return {
    connectMs: Math.min(MAX_CONNECT_MS, requestMs),
    requestMs,
    watchLivenessMs: requestMs,
  };
}

/**
 * The server ends each watch a little before the liveness limit (and sends a bookmark 2 s before
 * that), so a healthy but quiet watch always shows life in time and silence means a dead link.
 */
export function serverWatchTimeoutSeconds(t: Timeouts): number {
  return Math.max(1, Math.floor((t.watchLivenessMs * 0.8) / 1000));
}

/** The socket did not connect (or finish its TLS handshake) in time. */
export class ConnectTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly ms: number) {
    super(`no connection within ${ms / 1000}s`);
  }
}

type CreateConnection = (options: object, cb?: (err: Error | null, s?: Socket) => void) => Socket;

/** Destroys a socket that has not connected within `ms` (plain and TLS agents; proxies keep theirs). */
export function withConnectTimeout(agent: unknown, ms: number): void {
  if (!(agent instanceof http.Agent)) return;
  if (agent.constructor !== http.Agent && agent.constructor !== https.Agent) return;
  const a = agent as unknown as { createConnection: CreateConnection };
  const original = a.createConnection.bind(agent);
  a.createConnection = (options, cb) => {
    const socket = original(options, cb);
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(ms)), ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', clear);
    socket.once('close', clear);
    return socket;
  };
}

/** True for the errors our own bounds produce (abort of a call, connect timeout). */
export function isTimeout(err: unknown): boolean {
  const e = err as { name?: unknown; type?: unknown; code?: unknown } | undefined;
  return (
    e?.name === 'AbortError' ||
    e?.name === 'TimeoutError' ||
    e?.type === 'aborted' ||
    e?.code === 'ETIMEDOUT'
  );
}

export class TimedKubeConfig extends KubeConfig {
  timeouts: Timeouts = timeoutsFor(DEFAULT_REQUEST_TIMEOUT_SECONDS);

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    withConnectTimeout(context.getAgent(), this.timeouts.connectMs);
    context.setSignal(AbortSignal.timeout(this.timeouts.requestMs));
  }

  override async applyToHTTPSOptions(
    opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0],
  ): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    withConnectTimeout((opts as { agent?: unknown }).agent, this.timeouts.connectMs);
  }
}
