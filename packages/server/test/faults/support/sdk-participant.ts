import { ConfabClient, type ReconnectOptions, type Room, type SendAck, type WebSocketConstructor } from '@confab/client';
import type { ClientFrame, ServerFrame } from '@confab/protocol';
import WebSocket from 'ws';

import type { ReceivedLog, SendAttempt } from '../../support/delivery-checker.js';

export interface SdkParticipantOptions {
  name: string;
  url: string;
  rooms: string[];
  reconnect?: Partial<ReconnectOptions>;
  requestTimeoutMs?: number;
  /** Messages the SDK loads when a room is joined. Small, because the tests read the wire log instead. */
  initialHistoryLimit?: number;
}

/** What happened to one `room.send()` call of the app. */
export interface AppSend {
  room: string;
  content: string;
  outcome: 'pending' | 'acked' | 'failed';
  error?: unknown;
}

const DEFAULT_RECONNECT: Partial<ReconnectOptions> = { initialDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 2000 };

/**
 * A user of the client SDK, as an app would run it (reconnect with backoff, resume, outbox), whose
 * WebSocket records the wire. Every `event` frame received on any of its connections goes into
 * `log` in arrival order, and every `send` frame transmitted goes into `sends` as one attempt,
 * with the `sent` reply it got. Both feed the delivery checker. The SDK dedupes and reorders on its
 * own, so the checker reads the wire to judge the server rather than the SDK's repaired view.
 */
export class SdkParticipant {
  readonly client: ConfabClient;
  readonly log: ReceivedLog;
  /** One entry per transmission of a send frame; a retry of the same message is a second entry. */
  readonly sends: SendAttempt[] = [];
  readonly appSends: AppSend[] = [];
  /** Close codes of every connection or attempt that ended, in order (1006 for one that never opened). */
  readonly closeCodes: number[] = [];
  /** Joins with a `since` to which the server replied `resumed: true`. */
  resumedJoins = 0;
  /** Joins with a `since` to which the server replied `resumed: false`, so the client lost its place. */
  resetJoins = 0;
  /** `welcome` frames received, one per authenticated connection. */
  welcomes = 0;
  /** App sends still waiting for the server to store them. */
  pendingSends = 0;
  private readonly rooms = new Map<string, Room>();
  private readonly highestSeq = new Map<string, number>();

  constructor(readonly options: SdkParticipantOptions) {
    this.log = { client: options.name, events: [], firstSeq: {} };
    this.client = new ConfabClient({
      url: options.url,
      guestName: options.name,
      WebSocket: this.recordingWebSocketClass(),
      reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      initialHistoryLimit: options.initialHistoryLimit ?? 1,
    });
    this.client.on('disconnect', ({ code }) => this.closeCodes.push(code));
  }

  get name(): string {
    return this.options.name;
  }

  /** Connects and joins every room. `isJoined` reports when every join has been accepted. */
  start(): void {
    this.client.connect();
    for (const name of this.options.rooms) {
      this.rooms.set(name, this.client.room(name));
    }
  }

  /** Whether every room is joined on a live connection. */
  get isJoined(): boolean {
    return [...this.rooms.values()].every((room) => room.status === 'joined') && this.client.state === 'connected';
  }

  /** Sends through the SDK, which queues the message while offline and retries it until stored. */
  send(room: string, content: string): void {
    const handle = this.rooms.get(room);
    if (handle === undefined) {
      throw new Error(`${this.name} has not joined ${room}; join it through the options first`);
    }
    const record: AppSend = { room, content, outcome: 'pending' };
    this.appSends.push(record);
    this.pendingSends++;
    handle.send(content).then(
      (_ack: SendAck) => {
        record.outcome = 'acked';
        this.pendingSends--;
      },
      (error: unknown) => {
        record.outcome = 'failed';
        record.error = error;
        this.pendingSends--;
      },
    );
  }

  /** Seq of the highest event received in a room, 0 before any. */
  heldSeq(room: string): number {
    return this.highestSeq.get(room) ?? 0;
  }

  close(): void {
    this.client.close();
  }

  private recordingWebSocketClass(): WebSocketConstructor {
    const participant = this;
    return class RecordingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        participant.record(this);
      }
    };
  }

  private record(socket: WebSocket): void {
    // Per connection: the clientMessageId of each send request and the user it was sent as.
    const sendsByRequestId = new Map<string, SendAttempt>();
    let userId: string | undefined;

    const transmit = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
    socket.send = ((data: unknown, ...rest: unknown[]) => {
      if (typeof data === 'string') {
        const frame = JSON.parse(data) as ClientFrame;
        if (frame.type === 'send' && userId !== undefined) {
          const attempt: SendAttempt = {
            room: frame.room,
            senderId: userId,
            clientMessageId: frame.clientMessageId,
            content: frame.content,
          };
          this.sends.push(attempt);
          sendsByRequestId.set(frame.requestId, attempt);
        }
      }
      transmit(data, ...rest);
    }) as WebSocket['send'];

    socket.on('message', (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      switch (frame.type) {
        case 'welcome':
          userId = frame.user.id;
          this.welcomes++;
          return;
        case 'joined':
          this.recordJoined(frame);
          return;
        case 'sent': {
          const attempt = sendsByRequestId.get(frame.requestId);
          sendsByRequestId.delete(frame.requestId);
          if (attempt !== undefined) {
            attempt.ack = { seq: frame.seq, messageId: frame.messageId };
          }
          return;
        }
        case 'event':
          this.log.events.push(frame.event);
          this.highestSeq.set(frame.event.room, Math.max(this.heldSeq(frame.event.room), frame.event.seq));
          return;
        default:
          return;
      }
    });
  }

  private recordJoined(frame: Extract<ServerFrame, { type: 'joined' }>): void {
    const firstSeq = (this.log.firstSeq ??= {});
    if (firstSeq[frame.room] === undefined) {
      // The first join of a room has no `since`: the client's log starts after the head.
      firstSeq[frame.room] = frame.headSeq + 1;
      this.highestSeq.set(frame.room, frame.headSeq);
      return;
    }
    if (frame.resumed) {
      this.resumedJoins++;
    } else {
      this.resetJoins++;
    }
  }
}
