// A TCP forwarder in the test process (node:net: a few lines, stopped with the test, no tool to
// install): listens on one local address, forwards each connection to one target, accepts only
// the peers it is told to, and stops by itself after a bound.
import net from 'node:net';

export interface ForwarderStats {
  /** Connections forwarded. */
  accepted: number;
  /** Connections from a peer not allowed, closed at once. */
  refused: number;
  /** Bytes from the target back to the peers. */
  bytesBack: number;
}

export class Forwarder {
  readonly stats: ForwarderStats = { accepted: 0, refused: 0, bytesBack: 0 };
  private readonly allowed = new Set<string>();
  private readonly sockets = new Set<net.Socket>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: net.Server,
    readonly host: string,
    readonly port: number,
  ) {
    // Bounded: closes itself even if the test never calls stop().
    this.timer = setTimeout(() => void this.stop(), MAX_MS);
    this.timer.unref();
  }

  /** Listens on host:<free port>, forwarding to target (host:port). */
  static async start(host: string, target: { host: string; port: number }): Promise<Forwarder> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const forwarder = new Forwarder(server, host, (server.address() as net.AddressInfo).port);
    server.on('connection', (peer) => forwarder.forward(peer, target));
    return forwarder;
  }

  /** Forward connections from this address from now on (every other peer is refused). */
  allow(ip: string): void {
    this.allowed.add(ip);
  }

  private forward(peer: net.Socket, target: { host: string; port: number }): void {
    if (!this.allowed.has(peer.remoteAddress ?? '')) {
      this.stats.refused++;
      peer.destroy();
      return;
    }
    this.stats.accepted++;
    const upstream = net.connect(target.port, target.host);
    const end = () => {
      peer.destroy();
      upstream.destroy();
      this.sockets.delete(peer);
      this.sockets.delete(upstream);
    };
    for (const s of [peer, upstream]) {
      this.sockets.add(s);
      s.setTimeout(IDLE_MS, end);
      s.on('error', end);
      s.on('close', end);
    }
    upstream.on('data', (chunk: Buffer) => {
      this.stats.bytesBack += chunk.length;
    });
    peer.pipe(upstream);
    upstream.pipe(peer);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Longer than any suite that uses it (test/cluster/run.sh bounds each test at 15 minutes). */
const MAX_MS = 20 * 60_000;
/** An idle connection is closed (the API server's proxy keeps connections alive between queries). */
const IDLE_MS = 60_000;
