/**
 * A TCP proxy in front of the sim's kube-apiserver, to give one client an apiserver "restart":
 * `outage()` resets every open connection (watches included) and refuses new ones until
 * `restore()`. For the client that is what a restart looks like (connections reset, then refused,
 * then served again with the same resourceVersions, since etcd keeps them); the shared apiserver
 * itself, which other test files use, is never touched. TLS passes through unchanged: the
 * apiserver's certificate names 127.0.0.1, which the proxy's address is too.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class ApiProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted so far (a reconnecting client shows up here). */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    private portValue: number,
  ) {}

  /** Listens on an ephemeral loopback port and forwards to `targetUrl` (https://host:port). */
  static async start(targetUrl: string): Promise<ApiProxy> {
    const url = new URL(targetUrl);
    const proxy = new ApiProxy({ host: url.hostname, port: Number(url.port) }, 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `https://127.0.0.1:${this.portValue}`;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portValue, '127.0.0.1', () => {
        server.off('error', reject);
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') this.portValue = addr.port;
        resolve();
      });
    });
  }

  /** Resets every connection and stops listening (new connections are refused). */
  async outage(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((r) => server.close(() => r()));
    for (const s of this.sockets) {
      try {
        s.resetAndDestroy();
      } catch {
        s.destroy();
      }
    }
    this.sockets.clear();
    await closed;
  }

  /** Listens again on the same port. */
  async restore(): Promise<void> {
    if (this.server === undefined) await this.listen();
  }

  async close(): Promise<void> {
    await this.outage();
  }
}
