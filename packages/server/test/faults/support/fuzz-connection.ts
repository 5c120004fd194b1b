import { RawWebSocket } from '../../support/raw-websocket.js';
import { encodeClientFrame, OPCODES } from '../../support/encode-client-frame.js';
import { EPOCH_PLACEHOLDER, oversizedPayload, type FuzzFrame } from './fuzz-frames.js';

/** Server frames that reply to a request. The others (event, presence, members, typing) are broadcasts. */
const REPLY_TYPES: ReadonlySet<string> = new Set(['welcome', 'joined', 'left', 'sent', 'history', 'pong', 'error']);

/** The next thing a fuzzed connection saw: a reply frame, or the end of the connection. */
export type ServerOutcome =
  | { kind: 'reply'; frame: Record<string, unknown> }
  /** `code` is the close frame's status code, undefined when the connection ended without one. */
  | { kind: 'closed'; code: number | undefined };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A raw WebSocket connection driven by the fuzzer. It reads the server's frames in order, checks
 * that each text frame is a UTF-8 JSON object with a string `type`, and hands out the replies one
 * at a time, skipping broadcasts.
 */
export class FuzzConnection {
  /** Server text frames that were not valid UTF-8 JSON objects with a string `type`. */
  readonly malformedServerFrames: string[] = [];
  private cursor = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly raw: RawWebSocket,
    private readonly epoch: string,
    private readonly maxFrameBytes: number,
  ) {
    // Registered after RawWebSocket's own listener, so the frames of a chunk are parsed by now.
    raw.socket.on('data', () => this.wake?.());
    raw.socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static async open(port: number, epoch: string, maxFrameBytes: number): Promise<FuzzConnection> {
    return new FuzzConnection(await RawWebSocket.connect(port), epoch, maxFrameBytes);
  }

  /** Whether the connection has ended or the server has sent its close frame. */
  get isClosed(): boolean {
    return this.ended || this.raw.frames.some((frame) => frame.opcode === OPCODES.close);
  }

  /** Returns the text the fuzzer sends for a text frame: the placeholder epoch made real. */
  prepare(text: string): string {
    return text.replaceAll(EPOCH_PLACEHOLDER, this.epoch);
  }

  send(frame: FuzzFrame): void {
    if (this.ended) {
      return;
    }
    switch (frame.kind) {
      case 'text':
        this.raw.sendText(this.prepare(frame.text));
        return;
      case 'bytes':
        this.raw.sendText(Buffer.from(frame.bytes));
        return;
      case 'binary':
        this.raw.write(encodeClientFrame({ opcode: OPCODES.binary, payload: Buffer.from(frame.bytes) }));
        return;
      case 'opcode':
        this.raw.write(encodeClientFrame({ opcode: frame.opcode, payload: Buffer.from('{}') }));
        return;
      case 'oversized':
        this.raw.sendText(oversizedPayload(this.maxFrameBytes, frame.extraBytes));
        return;
    }
  }

  sendText(text: string): void {
    if (!this.ended) {
      this.raw.sendText(text);
    }
  }

  /** Resolves with the next reply or the end of the connection; rejects after `timeoutMs` of neither. */
  async next(timeoutMs: number): Promise<ServerOutcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const outcome = this.take();
      if (outcome !== undefined) {
        return outcome;
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new Error(`no reply and no close within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, remainingMs);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  destroy(): void {
    this.raw.destroy();
  }

  /** Takes the next reply or close off the received frames, or returns undefined to wait. */
  private take(): ServerOutcome | undefined {
    const frames = this.raw.frames;
    for (; this.cursor < frames.length; ) {
      const frame = frames[this.cursor++];
      if (frame === undefined) {
        continue;
      }
      if (frame.opcode === OPCODES.close) {
        return { kind: 'closed', code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined };
      }
      if (frame.opcode !== OPCODES.text) {
        continue;
      }
      const parsed = this.parse(frame.payload);
      if (parsed !== undefined && REPLY_TYPES.has(parsed['type'] as string)) {
        return { kind: 'reply', frame: parsed };
      }
    }
    if (this.ended) {
      return { kind: 'closed', code: undefined };
    }
    return undefined;
  }

  private parse(payload: Buffer): Record<string, unknown> | undefined {
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(payload));
    } catch {
      this.malformedServerFrames.push(payload.toString('hex').slice(0, 200));
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
      this.malformedServerFrames.push(payload.toString('utf8').slice(0, 200));
      return undefined;
    }
    return value as Record<string, unknown>;
  }
}
