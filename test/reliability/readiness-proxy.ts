import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';

/**
 * What a Kubernetes Service plus its endpoints controller do for the rolling-restart test, in
 * 60 lines: poll each backend's /readyz, send each request round-robin to a ready backend, and
 * drop a backend after two failed checks in a row (the manifests' readinessProbe: timeoutSeconds 2,
 * failureThreshold 2; one slow answer on a busy machine is not a failure). Like kube-proxy it
 * never retries a request.
 * Upstream connections are not kept alive, as with kube-proxy's per-connection balancing.
 */
export class ReadinessProxy {
  private readonly ready = new Set<string>();
  private readonly failures = new Map<string, number>();
  private next = 0;
  private timer?: NodeJS.Timeout;
  private server?: Server;
  backends: string[] = [];
  /** Where each backend's /readyz is (its operations port), as the kubelet probes it. */
  readonly probeUrls = new Map<string, string>();

  constructor(private readonly pollMs = 100) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const targets = this.backends.filter((b) => this.ready.has(b));
      const target = targets[this.next++ % Math.max(targets.length, 1)];
      if (!target) {
        res.writeHead(503).end('no ready backend');
        return;
      }
      const upstream = request(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers, agent: false },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => res.writeHead(502).end(`upstream ${target}: ${err.message}`));
      req.pipe(upstream);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  private async poll() {
    await Promise.all(
      this.backends.map(async (b) => {
        try {
          const res = await fetch(`${this.probeUrls.get(b) ?? b}/readyz`, {
            signal: AbortSignal.timeout(2000),
          });
          if (res.ok) return this.passed(b);
        } catch {
          // refused or timed out: a failed check like a 503
        }
        this.failed(b);
      }),
    );
  }

  private passed(backend: string) {
    this.failures.set(backend, 0);
    this.ready.add(backend);
  }

  private failed(backend: string) {
    const failures = (this.failures.get(backend) ?? 0) + 1;
    this.failures.set(backend, failures);
    if (failures >= 2) this.ready.delete(backend);
  }

  isReady(backend: string): boolean {
    return this.ready.has(backend);
  }

  async close() {
    clearInterval(this.timer);
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
