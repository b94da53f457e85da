import type { Socket } from 'node:net';
import { HttpProblem } from './problems.js';

/** Longest request target served; a longer one is a 414 problem (Node's header limit is 16 KiB). */
export const MAX_URL_LENGTH = 8192;

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (header block too large, malformed
 * request line or header) still get a problem+json answer, on the raw socket, then it closes.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const p =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new HttpProblem(
          'header-fields-too-large',
          'the request line and headers exceed 16 KiB; send a shorter URL or fewer headers',
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HttpProblem('request-timeout', 'the request did not arrive in time')
        : new HttpProblem(
            'bad-request',
            `the request is not valid HTTP (${err.code ?? 'parse error'})`,
          );
  const body = JSON.stringify(p.problem);
  socket.end(
    `HTTP/1.1 ${p.status} ${p.problem.title}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
