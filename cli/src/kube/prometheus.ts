// Prometheus instant queries, either through the API server's service proxy (the caller's own
// kubeconfig credentials; RBAC: get services/proxy on that one Service) or at a URL given with
// --prometheus-url. Only GET, so the Role needs no `create` on the proxy. Thin: the query strings
// and what the answers mean live in analysis/.
import http from 'node:http';
import https from 'node:https';
import type { VectorSample } from '../analysis/promql.js';
import type { Kube } from './client.js';

export type PrometheusTarget =
  { kind: 'service'; namespace: string; service: string } | { kind: 'url'; url: string };

export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'forbidden' | 'bad-response',
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function describeTarget(t: PrometheusTarget): string {
  return t.kind === 'url'
    ? t.url
    : `service ${t.namespace}/${t.service} (through the API server's service proxy)`;
}

async function requestOptions(
  kube: Kube,
  target: PrometheusTarget,
  query: string,
): Promise<{ url: URL; options: https.RequestOptions }> {
  const qs = `query=${encodeURIComponent(query)}`;
  if (target.kind === 'url') {
    const base = target.url.replace(/\/+$/, '');
    return { url: new URL(`${base}/api/v1/query?${qs}`), options: {} };
  }
  const server = kube.kc.getCurrentCluster()?.server ?? '';
  const url = new URL(
    `${server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/services/${encodeURIComponent(target.service).replace(/%3A/gi, ':')}/proxy/api/v1/query?${qs}`,
  );
  const options: https.RequestOptions = {};
  await kube.kc.applyToHTTPSOptions(options);
  return { url, options };
}

/** GET /api/v1/query; resolves with the vector, or rejects with a PrometheusError saying why. */
export async function queryVector(
  kube: Kube,
  target: PrometheusTarget,
  query: string,
): Promise<VectorSample[]> {
  const { url, options } = await requestOptions(kube, target, query);
  const where = describeTarget(target);
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { ...options, method: 'GET', timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error('answer larger than 16 MiB'));
        else chunks.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (err) =>
      reject(
        new PrometheusError(`Prometheus at ${where} unreachable: ${err.message}`, 'unreachable'),
      ),
    );
    req.end();
  });
  if (body.status === 401 || body.status === 403) {
    throw new PrometheusError(
      `Prometheus at ${where}: forbidden (HTTP ${body.status})${target.kind === 'service' ? `: you need "get services/proxy" on ${target.service} in namespace ${target.namespace}` : ''}`,
      'forbidden',
    );
  }
  let parsed: {
    kind?: string;
    message?: string;
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  };
  try {
    parsed = JSON.parse(body.text);
  } catch {
    throw new PrometheusError(
      `Prometheus at ${where}: HTTP ${body.status}, not a Prometheus answer: ${body.text.slice(0, 200).trim()}`,
      body.status >= 500 || body.status === 404 ? 'unreachable' : 'bad-response',
    );
  }
  if (parsed.kind === 'Status') {
    // The API server's own answer, not Prometheus': usually the Service or its endpoints are missing.
    throw new PrometheusError(
      `Prometheus at ${where}: ${parsed.message ?? `HTTP ${body.status}`} (point --prometheus-service or --prometheus-url at your Prometheus)`,
      'unreachable',
    );
  }
  if (parsed.status !== 'success' || parsed.data?.resultType !== 'vector') {
    throw new PrometheusError(
      `Prometheus at ${where}: query failed (HTTP ${body.status}): ${parsed.error ?? 'unexpected answer'}`,
      'bad-response',
    );
  }
  return (parsed.data.result ?? []) as VectorSample[];
}
