// One GET from the test process to an address of the cluster (a pod, a Service, the Ingress
// controller with a virtual host), on a new connection and bounded in time. node:http(s) rather
// than fetch because a virtual host needs its own Host header (and over TLS its own server name),
// which fetch does not let a caller set.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface Answer {
  status: number;
  type: string;
  body: string;
  /** Over TLS: the SHA-256 fingerprint of the certificate the server presented. */
  certificate?: string;
}

function answer(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  send: (onResponse: (res: IncomingMessage) => void) => ClientRequest,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = send((res) => {
      // Read now: the socket is detached from the response once it has ended.
      const socket = res.socket as TLSSocket | null;
      const certificate =
        socket && 'getPeerCertificate' in socket
          ? { certificate: socket.getPeerCertificate().fingerprint256 }
          : {};
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body,
          ...certificate,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url} (${headers.host ?? ''})`)));
    req.on('error', reject);
    req.end();
  });
}

export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
): Promise<Answer> {
  return answer(url, headers, timeoutMs, (cb) => request(url, { headers, timeout: timeoutMs }, cb));
}

/**
 * A GET over TLS to `url` for the virtual host `host` (Host header and server name), trusting
 * only `ca`: a certificate the server presents that `ca` did not sign fails the request.
 */
export function httpsGet(
  url: string,
  host: string,
  ca: string,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
): Promise<Answer> {
  const all = { ...headers, host };
  return answer(url, all, timeoutMs, (cb) =>
    tlsRequest(url, { headers: all, servername: host, ca, timeout: timeoutMs, agent: false }, cb),
  );
}
