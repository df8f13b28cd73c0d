/**
 * A TCP proxy on a random loopback port that a test controls, to put between a client and a server
 * and break the connection on purpose: `cut()` drops every connection and refuses new ones,
 * `blackhole()` lets requests through but swallows the replies (a request that ran on the server
 * but whose answer never came), `restore()` lets traffic through again.
 */
import net from 'node:net';

export type ProxyMode = 'pass' | 'cut' | 'blackhole';

export class TcpProxy {
  private mode: ProxyMode = 'pass';
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Connections accepted so far (a reconnecting client shows up here). */
  connections = 0;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = net.createServer((client) => proxy?.accept(client, targetPort, targetHost));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  private accept(client: net.Socket, port: number, host: string): void {
    this.connections++;
    client.on('error', () => undefined);
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    upstream.on('error', () => client.destroy());
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on('data', (chunk) => {
      if (this.mode !== 'cut') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (this.mode === 'pass') client.write(chunk);
    });
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
  }

  private dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.mode = 'cut';
    this.dropAll();
  }

  /** Requests still reach the server; nothing comes back. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Traffic flows again; connections that lost replies are dropped, as a real network would reset them. */
  restore(): void {
    if (this.mode === 'blackhole') this.dropAll();
    this.mode = 'pass';
  }

  async close(): Promise<void> {
    this.mode = 'cut';
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
