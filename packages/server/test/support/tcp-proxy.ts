import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxyOptions {
  /**
   * Cut a connection when nothing has been read from the server or written to it for this many
   * milliseconds, as a load balancer with a read timeout does.
   */
  idleTimeoutMs?: number;
}

interface ProxiedPair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a test server. It can blackhole its connections (keep them
 * open but forward nothing, like a network path that drops every packet) and cut idle ones.
 */
export class TcpProxy {
  /** Connections cut because they stayed idle past `idleTimeoutMs`. */
  idleCuts = 0;
  private blackholed = false;
  private readonly pairs = new Set<ProxiedPair>();

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    private readonly options: TcpProxyOptions,
  ) {
    server.on('connection', (client) => this.handleConnection(client));
  }

  /** Starts a proxy that forwards to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** WebSocket endpoint of the server as seen through the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /**
   * Stops forwarding in both directions without closing anything: bytes are read and discarded,
   * and a close on one side is not passed on to the other.
   */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Destroys every proxied connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handleConnection(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair: ProxiedPair = { client, upstream };
    this.pairs.add(pair);

    // A blackholed pair may lose one side and keep the other; close() still has to find it.
    const forget = (): void => {
      if (client.destroyed && upstream.destroyed) {
        this.pairs.delete(pair);
      }
    };
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('data', (chunk: Buffer) => {
      if (!this.blackholed) {
        upstream.write(chunk);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.blackholed) {
        client.write(chunk);
      }
    });
    client.on('close', () => {
      forget();
      if (!this.blackholed) {
        upstream.destroy();
      }
    });
    upstream.on('close', () => {
      forget();
      if (!this.blackholed) {
        client.destroy();
      }
    });

    if (this.options.idleTimeoutMs !== undefined) {
      upstream.setTimeout(this.options.idleTimeoutMs, () => {
        this.idleCuts++;
        upstream.destroy();
        client.destroy();
      });
    }
  }
}
