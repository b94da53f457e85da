// A TCP proxy on 127.0.0.1 between the CLI and the API server, which a test can cut. TLS passes
// through untouched (the CLI still verifies the API server's certificate, issued for 127.0.0.1), so
// the CLI talks to the real server and only the network misbehaves:
// - open: bytes flow both ways;
// - refusing: every connection is cut at once, and each new one is closed as it arrives (a server
//   that is gone);
// - silent: bytes stop flowing on the connections that exist, and new ones are accepted and never
//   answered (packets black-holed, or a server that hangs).
// Without an upstream it is a listener that accepts and never answers. Hand-written with node:net
// because what the tests need is exactly these three states, switched at a known moment; a general
// proxy (toxiproxy) would be another daemon to build and run for the same few lines.
import net from 'node:net';

export type ProxyState = 'open' | 'refusing' | 'silent';

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
}

const MAX_CONNECTIONS = 200;

export class CutProxy {
  private readonly pairs = new Set<Pair>();
  /** Connections accepted so far (in any state). */
  accepted = 0;
  /** Connections cut or refused by the proxy. */
  cut = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly upstream: { host: string; port: number } | undefined,
    private current: ProxyState,
  ) {}

  /** A proxy to `upstream` (an https:// URL), or with none, a listener that never answers. */
  static async start(upstream?: string, state: ProxyState = 'open'): Promise<CutProxy> {
    const target = upstream
      ? (() => {
          const u = new URL(upstream);
          return { host: u.hostname, port: Number(u.port || 443) };
        })()
      : undefined;
    if (!target && state === 'open') throw new Error('an open proxy needs an upstream');
    const server = net.createServer();
    server.maxConnections = MAX_CONNECTIONS;
    const proxy = new CutProxy(server, target, state);
    server.on('connection', (s) => proxy.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get state(): ProxyState {
    return this.current;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.current === 'refusing') {
      this.cut++;
      client.destroy();
      return;
    }
    const pair: Pair = { client };
    this.pairs.add(pair);
    client.on('close', () => this.drop(pair));
    if (this.current === 'silent' || !this.upstream) return; // held, never answered
    const upstream = net.connect(this.upstream.port, this.upstream.host);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  /** Cuts every connection and closes each new one at once. */
  refuse(): void {
    this.current = 'refusing';
    for (const p of [...this.pairs]) {
      this.cut++;
      this.drop(p);
    }
  }

  /** Stops forwarding on every connection (they stay open) and answers no new one. */
  silence(): void {
    this.current = 'silent';
    for (const p of this.pairs) {
      p.client.unpipe();
      p.upstream?.unpipe();
      p.client.pause();
      p.upstream?.pause();
    }
  }

  /** New connections are forwarded again (the silenced ones stay silent until their owner drops them). */
  open(): void {
    if (!this.upstream) throw new Error('a proxy without an upstream cannot open');
    this.current = 'open';
  }

  async close(): Promise<void> {
    for (const p of [...this.pairs]) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
