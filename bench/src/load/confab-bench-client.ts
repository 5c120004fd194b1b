import { PROTOCOL_VERSION } from '@confab/protocol';
import { WebSocket } from 'ws';

import { BenchClient, type ResumePoint } from './bench-client.js';

// Confab's server writes every frame with JSON.stringify of an object whose first key is `type`,
// so the frame type starts at this byte offset: {"type":"…
const TYPE_OFFSET = 9;
const SEQ_KEY = Buffer.from('"seq":');
const SENT_REQUEST_KEY = Buffer.from('"requestId":"s');

/** A Confab protocol v1 client: auth with a JWT, join, acknowledged sends, resume by cursor. */
export class ConfabBenchClient extends BenchClient {
  epoch: string | undefined;
  /** Highest event seq received, for clients that hold one room. */
  lastSeq = 0;
  private joinsPending = 0;
  private messageCounter = 0;
  private pendingResume: ResumePoint | undefined;

  send(room: string, payload: string, sendMicros: number): void {
    this.messageCounter++;
    this.sendText(
      `{"type":"send","requestId":"s${Math.round(sendMicros)}","room":"${room}",` +
        `"clientMessageId":"${this.spec.userId}-${this.messageCounter}","content":"${payload}"}`,
    );
  }

  protected openSocket(url: string): WebSocket {
    return new WebSocket(url, PROTOCOL_VERSION, { perMessageDeflate: false });
  }

  protected handleOpen(resume: ResumePoint | undefined): void {
    this.pendingResume = resume;
    this.sendText(JSON.stringify({ type: 'auth', requestId: 'auth', token: this.spec.token }));
  }

  protected handleFrame(data: Buffer): void {
    const first = data[TYPE_OFFSET];
    const second = data[TYPE_OFFSET + 1];

    // 'e','v': event
    if (first === 0x65 && second === 0x76) {
      this.lastSeq = Math.max(this.lastSeq, readNumberAfter(data, SEQ_KEY));
      this.deliver(data);
      return;
    }
    // 's','e': sent
    if (first === 0x73 && second === 0x65) {
      this.counters.recordAck(readNumberAfter(data, SENT_REQUEST_KEY));
      return;
    }
    // 'j': joined
    if (first === 0x6a) {
      this.joinsPending--;
      if (this.joinsPending === 0) {
        this.handshakeDone();
      }
      return;
    }
    // 'w': welcome
    if (first === 0x77) {
      this.handleWelcome(data);
      return;
    }
    // 'e','r': error
    if (first === 0x65 && second === 0x72) {
      const frame = JSON.parse(data.toString()) as { code: string; message: string };
      this.counters.recordError(frame.code);
      if (this.handshaking) {
        this.handshakeFailed(`server rejected the handshake: ${frame.code}: ${frame.message}`);
      }
    }
    // presence, members, typing, pong, history and left frames are not measured.
  }

  private handleWelcome(data: Buffer): void {
    const welcome = JSON.parse(data.toString()) as { epoch: string };
    this.epoch = welcome.epoch;
    const rooms = this.spec.rooms;
    this.joinsPending = rooms.length;
    if (rooms.length === 0) {
      this.handshakeDone();
      return;
    }
    const resume = this.pendingResume;
    rooms.forEach((room, index) => {
      const join: Record<string, unknown> = { type: 'join', requestId: `join-${index}`, room };
      if (resume !== undefined) {
        join.since = resume.since;
        join.epoch = resume.epoch;
      }
      this.sendText(JSON.stringify(join));
    });
  }
}

/** Reads the unsigned integer that follows `key` in `data`; -1 when the key is missing. */
function readNumberAfter(data: Buffer, key: Buffer): number {
  const at = data.indexOf(key);
  if (at < 0) {
    return -1;
  }
  let value = 0;
  let digits = 0;
  for (let index = at + key.length; index < data.length; index++) {
    const byte = data[index] ?? 0;
    if (byte < 0x30 || byte > 0x39) {
      break;
    }
    value = value * 10 + (byte - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : value;
}
