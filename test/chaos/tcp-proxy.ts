/**
 * A small TCP proxy (node:net) put between one service and NATS or Postgres, to inject faults on that
 * link only: added latency per chunk, or a black hole. This kernel has no `tc netem` and the registries
 * have no Toxiproxy server, so the chaos harness carries its own.
 *
 * The black hole PAUSES both directions (nothing is read, nothing is written, new connections are
 * accepted but not forwarded): the bytes wait, as TCP retransmissions would through a real partition,
 * and flow again on `heal()`. `reset()` instead destroys every connection (a partition long enough
 * for TCP to give up).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = { readonly kind: 'pass' } | { readonly kind: 'delay'; readonly ms: number } | { readonly kind: 'blackhole' };

interface Link { readonly client: Socket; upstream?: Socket }

export class TcpProxy {
  private mode: ProxyMode = { kind: 'pass' };
  private readonly links = new Set<Link>();

  private constructor(private readonly server: Server, readonly port: number, private readonly targetPort: number) {}

  /** Listens on a free loopback port and forwards to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    proxy = new TcpProxy(server, typeof addr === 'object' && addr ? addr.port : 0, targetPort);
    return proxy;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.links.size;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    for (const l of this.links) this.applyFlow(l);
  }

  blackhole(): void {
    this.setMode({ kind: 'blackhole' });
  }

  heal(): void {
    this.setMode({ kind: 'pass' });
  }

  /** Destroys every proxied connection (both sides see a reset). */
  reset(): void {
    for (const l of this.links) this.drop(l);
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(client: Socket): void {
    const link: Link = { client };
    this.links.add(link);
    client.on('error', () => this.drop(link));
    client.on('close', () => this.drop(link));
    client.pause();
    this.applyFlow(link);
  }

  /** Opens the upstream side once the link may carry bytes; pauses or resumes both sides per mode. */
  private applyFlow(link: Link): void {
    if (this.mode.kind === 'blackhole') {
      link.client.pause();
      link.upstream?.pause();
      return;
    }
    if (!link.upstream) this.openUpstream(link);
    link.client.resume();
    link.upstream?.resume();
  }

  private openUpstream(link: Link): void {
    const up = connect(this.targetPort, '127.0.0.1');
    link.upstream = up;
    up.on('error', () => this.drop(link));
    up.on('close', () => this.drop(link));
    this.pipe(link.client, up);
    this.pipe(up, link.client);
  }

  /** Forwards chunks in order; with `delay`, each chunk leaves `ms` after it arrived (order kept: equal delays). */
  private pipe(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      const m = this.mode;
      if (m.kind === 'delay' && m.ms > 0) setTimeout(() => { if (!to.destroyed) to.write(chunk); }, m.ms);
      else if (!to.destroyed) to.write(chunk);
    });
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}
