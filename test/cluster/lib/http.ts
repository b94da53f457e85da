// One GET from the test process to an address of the cluster (a pod, a Service, the Ingress
// controller with a virtual host), on a new connection and bounded in time. node:http rather than
// fetch because a virtual host needs its own Host header, which fetch does not let a caller set.
import { request } from 'node:http';

export interface Answer {
  status: number;
  type: string;
  body: string;
}

export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url} (${headers.host ?? ''})`)));
    req.on('error', reject);
    req.end();
  });
}
