import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { encodeClientFrame, OPCODES } from './encode-client-frame.js';

const DEFAULT_WAIT_MS = 5000;
/** GUID that RFC 6455 appends to the key when computing Sec-WebSocket-Accept. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A frame received from the server. Server frames are never masked. */
export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface RawCloseInfo {
  /** Status code of the server's close frame; undefined when the connection ended without one. */
  code: number | undefined;
  reason: string;
}

export interface RawConnectOptions {
  path?: string;
  headers?: Record<string, string>;
  protocol?: string;
}

/**
 * A WebSocket client on a plain TCP socket, with the handshake and the framing done by hand. A test
 * can send bytes that a conforming client library never sends, and read the server's raw payload
 * bytes, for example to check that they are valid UTF-8. It replies to pings with pongs and echoes
 * close frames.
 */
export class RawWebSocket {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<RawCloseInfo>;
  private received = Buffer.alloc(0);
  private closeInfo: RawCloseInfo = { code: undefined, reason: '' };
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly socket: Socket,
    leftover: Buffer,
  ) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => resolve(this.closeInfo));
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.handleData(chunk));
    if (leftover.length > 0) {
      this.handleData(leftover);
    }
  }

  /** Opens a TCP connection to 127.0.0.1 and completes the WebSocket handshake on it. */
  static connect(port: number, options: RawConnectOptions = {}): Promise<RawWebSocket> {
    const key = randomBytes(16).toString('base64');
    const expectedAccept = createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': options.protocol ?? 'confab.v1',
      ...options.headers,
    };
    const request =
      `GET ${options.path ?? '/ws'} HTTP/1.1\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      '\r\n';

    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let response = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no handshake response within ${DEFAULT_WAIT_MS} ms`));
      }, DEFAULT_WAIT_MS);

      const onData = (chunk: Buffer): void => {
        response = Buffer.concat([response, chunk]);
        const end = response.indexOf('\r\n\r\n');
        if (end < 0) {
          return;
        }
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);

        const head = response.subarray(0, end).toString('latin1');
        const statusLine = head.split('\r\n')[0] ?? '';
        const accept = /^sec-websocket-accept:\s*(\S+)\s*$/im.exec(head)?.[1];
        if (!statusLine.startsWith('HTTP/1.1 101') || accept !== expectedAccept) {
          socket.destroy();
          reject(new Error(`handshake failed: ${statusLine}`));
          return;
        }
        resolve(new RawWebSocket(socket, response.subarray(end + 4)));
      };
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('connect', () => socket.write(request));
    });
  }

  /** Writes bytes to the socket as they are, with no framing. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one masked text frame; a Buffer payload is sent as it is, even when it is not UTF-8. */
  sendText(payload: string | Buffer): void {
    this.write(encodeClientFrame({ opcode: OPCODES.text, payload }));
  }

  sendJson(value: unknown): void {
    this.sendText(JSON.stringify(value));
  }

  /** Returns the payloads of the text frames received so far, as raw bytes. */
  textPayloads(): Buffer[] {
    return this.frames.filter((frame) => frame.opcode === OPCODES.text).map((frame) => frame.payload);
  }

  /**
   * Resolves with the first text frame, received so far or later, whose JSON value matches. The
   * payload is decoded leniently here; tests that check the encoding read `textPayloads()`.
   */
  async waitForJson(
    match: (value: Record<string, unknown>) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let checked = 0;
    for (;;) {
      const payloads = this.textPayloads();
      for (; checked < payloads.length; checked++) {
        const value = JSON.parse((payloads[checked] as Buffer).toString('utf8')) as Record<string, unknown>;
        if (match(value)) {
          return value;
        }
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new Error(`no matching text frame within ${timeoutMs} ms; received ${payloads.length} text frames`);
      }
      await this.nextFrame(remainingMs);
    }
  }

  /** Signs in as a guest and resolves with the `welcome` frame. */
  async authenticateGuest(name: string): Promise<Record<string, unknown>> {
    this.sendJson({ type: 'auth', requestId: 'auth', guest: { name } });
    return this.waitForJson((value) => value['requestId'] === 'auth');
  }

  /** Sends a close frame with the given code, as a client that closes normally does. */
  close(code = 1000): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code, 0);
    this.write(encodeClientFrame({ opcode: OPCODES.close, payload }));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private nextFrame(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.listeners.add(done);
    });
  }

  private handleData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    for (;;) {
      const frame = this.readFrame();
      if (frame === undefined) {
        break;
      }
      this.frames.push(frame);
      this.handleControlFrame(frame);
      for (const listener of [...this.listeners]) {
        listener();
      }
    }
  }

  /** Takes one whole frame off the front of the receive buffer, or returns undefined. */
  private readFrame(): RawFrame | undefined {
    const buffer = this.received;
    if (buffer.length < 2) {
      return undefined;
    }
    const first = buffer[0] ?? 0;
    const second = buffer[1] ?? 0;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) {
        return undefined;
      }
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) {
        return undefined;
      }
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) {
      return undefined;
    }

    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    this.received = buffer.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
  }

  private handleControlFrame(frame: RawFrame): void {
    if (frame.opcode === OPCODES.ping) {
      this.write(encodeClientFrame({ opcode: OPCODES.pong, payload: frame.payload }));
      return;
    }
    if (frame.opcode !== OPCODES.close) {
      return;
    }
    if (frame.payload.length >= 2) {
      this.closeInfo = {
        code: frame.payload.readUInt16BE(0),
        reason: frame.payload.subarray(2).toString('utf8'),
      };
    }
    // Echo the close frame and end our side, as RFC 6455 section 5.5.1 requires of the receiver.
    if (this.socket.writable) {
      this.socket.end(encodeClientFrame({ opcode: OPCODES.close, payload: frame.payload.subarray(0, 2) }));
    }
  }
}
