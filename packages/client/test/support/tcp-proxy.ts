import { createServer, connect, type Server, type Socket } from 'node:net';

/** Decides what happens to one text frame from the server: pass it, drop it, or send it twice. */
export type FrameVerdict = 'pass' | 'drop' | 'duplicate';

interface ProxiedPair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 between WebSocket clients and a server, for tests that break the
 * network. `cutAll()` destroys every connection abruptly, with no close frame, as when a route
 * fails. `blackhole` stops forwarding without closing anything, as when a peer vanishes.
 * `inspectServerFrames` may drop or duplicate the server's frames to open gaps in a room's log.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<ProxiedPair>();
  #targetPort: number;
  #blackhole = false;
  /** Called with each data frame from the server, as text; null passes every frame. */
  inspectServerFrames: ((text: string) => FrameVerdict) | null = null;

  private constructor(targetPort: number) {
    this.#targetPort = targetPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') {
      throw new Error('proxy is not listening');
    }
    return address.port;
  }

  /** WebSocket URL that reaches the server through the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get connectionCount(): number {
    return this.#pairs.size;
  }

  /** Sends new connections to another port, as after a server restart on a new port. */
  setTarget(port: number): void {
    this.#targetPort = port;
  }

  /** While true, bytes are swallowed in both directions and sockets stay open. */
  set blackhole(value: boolean) {
    this.#blackhole = value;
  }

  /** Destroys every proxied connection on both sides at once. */
  cutAll(): void {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const parser = new ServerStreamParser((text) => this.inspectServerFrames?.(text) ?? 'pass');

    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);

    client.on('data', (chunk: Buffer) => {
      if (!this.#blackhole) {
        upstream.write(chunk);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.#blackhole) {
        return;
      }
      const output = parser.push(chunk);
      if (output.length > 0) {
        client.write(output);
      }
    });
  }
}

/**
 * Splits the server-to-client byte stream into the HTTP upgrade response and WebSocket frames,
 * and rewrites it by the verdict on each unfragmented text or binary data frame. Server frames
 * are never masked (RFC 6455, section 5.1), and the Confab server sends no compressed frames.
 */
class ServerStreamParser {
  readonly #judge: (text: string) => FrameVerdict;
  #buffer = Buffer.alloc(0);
  #headerDone = false;

  constructor(judge: (text: string) => FrameVerdict) {
    this.#judge = judge;
  }

  push(chunk: Buffer): Buffer {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const output: Buffer[] = [];

    if (!this.#headerDone) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end === -1) {
        return Buffer.alloc(0);
      }
      output.push(this.#buffer.subarray(0, end + 4));
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#headerDone = true;
    }

    for (;;) {
      const frame = this.#nextFrame();
      if (frame === null) {
        break;
      }
      output.push(...this.#rewrite(frame.bytes, frame.opcode, frame.payload));
    }
    return Buffer.concat(output);
  }

  #nextFrame(): { bytes: Buffer; opcode: number; payload: Buffer } | null {
    const buffer = this.#buffer;
    if (buffer.length < 2) {
      return null;
    }
    const opcode = buffer[0]! & 0x0f;
    const shortLength = buffer[1]! & 0x7f;
    let offset = 2;
    let length = shortLength;
    if (shortLength === 126) {
      if (buffer.length < 4) {
        return null;
      }
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (shortLength === 127) {
      if (buffer.length < 10) {
        return null;
      }
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) {
      return null;
    }
    const bytes = buffer.subarray(0, offset + length);
    this.#buffer = buffer.subarray(offset + length);
    return { bytes, opcode, payload: bytes.subarray(offset) };
  }

  #rewrite(bytes: Buffer, opcode: number, payload: Buffer): Buffer[] {
    const isData = opcode === 0x1 || opcode === 0x2;
    const isFinal = (bytes[0]! & 0x80) !== 0;
    if (!isData || !isFinal) {
      return [bytes];
    }
    const verdict = this.#judge(payload.toString('utf8'));
    if (verdict === 'drop') {
      return [];
    }
    if (verdict === 'duplicate') {
      return [bytes, bytes];
    }
    return [bytes];
  }
}
