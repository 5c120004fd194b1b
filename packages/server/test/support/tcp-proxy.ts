import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxyOptions {
  /**
   * Cut a connection when nothing has been read from the server or written to it for this many
   * milliseconds, as a load balancer with a read timeout does.
   */
  idleTimeoutMs?: number;
  /**
   * Hold every chunk this many milliseconds before passing it on, in both directions, as a slow
   * network path does. Order is kept, and a close is passed on only after the data sent before it.
   */
  delayMs?: number;
}

/** Passes bytes to one side of a proxied connection, and closes that side. */
interface Forwarder {
  write(chunk: Buffer): void;
  /** Destroys the target once every chunk written before has been passed on. */
  destroyAfterQueued(): void;
  /** Drops whatever is still queued. */
  cancel(): void;
}

interface ProxiedPair {
  client: Socket;
  upstream: Socket;
  toClient: Forwarder;
  toUpstream: Forwarder;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a test server. It can delay what it forwards, blackhole its
 * connections (keep them open but forward nothing, like a network path that drops every packet),
 * cut them without a close frame, and cut idle ones.
 */
export class TcpProxy {
  /** Connections cut because they stayed idle past `idleTimeoutMs`. */
  idleCuts = 0;
  /** Connections cut by `cutAll`. */
  cuts = 0;
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

  /** Number of proxied connections open now. */
  get connectionCount(): number {
    return this.pairs.size;
  }

  /**
   * Stops forwarding in both directions without closing anything: bytes are read and discarded,
   * and a close on one side is not passed on to the other.
   */
  blackhole(): void {
    this.blackholed = true;
  }

  /**
   * Destroys every proxied connection at once, with no close frame and no queued bytes passed on,
   * as a network failure does. The proxy keeps listening, so clients can connect again.
   */
  cutAll(): void {
    for (const pair of this.pairs) {
      this.cuts++;
      destroyPair(pair);
    }
    this.pairs.clear();
  }

  /** Destroys every proxied connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      destroyPair(pair);
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handleConnection(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    const delayMs = this.options.delayMs ?? 0;
    const pair: ProxiedPair = {
      client,
      upstream,
      toClient: delayMs > 0 ? new DelayedForwarder(client, delayMs) : directForwarder(client),
      toUpstream: delayMs > 0 ? new DelayedForwarder(upstream, delayMs) : directForwarder(upstream),
    };
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
        pair.toUpstream.write(chunk);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.blackholed) {
        pair.toClient.write(chunk);
      }
    });
    client.on('close', () => {
      forget();
      if (!this.blackholed) {
        pair.toUpstream.destroyAfterQueued();
      }
    });
    upstream.on('close', () => {
      forget();
      if (!this.blackholed) {
        pair.toClient.destroyAfterQueued();
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

function destroyPair(pair: ProxiedPair): void {
  pair.toClient.cancel();
  pair.toUpstream.cancel();
  pair.client.destroy();
  pair.upstream.destroy();
}

function directForwarder(target: Socket): Forwarder {
  return {
    write: (chunk) => {
      target.write(chunk);
    },
    destroyAfterQueued: () => target.destroy(),
    cancel: () => {},
  };
}

/** A chunk to write, or null for the destroy that follows the chunks queued before it. */
interface QueuedChunk {
  dueAtMs: number;
  chunk: Buffer | null;
}

/**
 * Writes each chunk to its target `delayMs` after it was queued, in queue order. One timer serves
 * the whole queue, so chunks can never overtake each other.
 */
class DelayedForwarder implements Forwarder {
  private readonly queue: QueuedChunk[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cancelled = false;

  constructor(
    private readonly target: Socket,
    private readonly delayMs: number,
  ) {}

  write(chunk: Buffer): void {
    this.enqueue(chunk);
  }

  destroyAfterQueued(): void {
    this.enqueue(null);
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private enqueue(chunk: Buffer | null): void {
    if (this.cancelled) {
      return;
    }
    this.queue.push({ dueAtMs: Date.now() + this.delayMs, chunk });
    if (this.timer === undefined) {
      this.schedule();
    }
  }

  private schedule(): void {
    const head = this.queue[0];
    if (head === undefined) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.dueAtMs - Date.now()));
  }

  private flush(): void {
    const nowMs = Date.now();
    for (let head = this.queue[0]; head !== undefined && head.dueAtMs <= nowMs; head = this.queue[0]) {
      this.queue.shift();
      if (head.chunk === null) {
        this.target.destroy();
        this.cancel();
        return;
      }
      if (!this.target.destroyed) {
        this.target.write(head.chunk);
      }
    }
    this.schedule();
  }
}
