import type { Member, RoomEvent, ServerFrame } from '@confab/protocol';
import { WebSocket } from 'ws';

import type { ReceivedLog, SendAttempt } from './delivery-checker.js';

const CONNECT_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 10_000;
const RECONNECT_DELAY_MS = 100;
const RETRY_DELAY_MS = 200;
/** How long a send keeps retrying before the test counts it as never acknowledged. */
const SEND_DEADLINE_MS = 45_000;

type Frame = ServerFrame;

interface Pending {
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
}

export interface ResumingClientOptions {
  name: string;
  userId: string;
  token: string;
  /** Node URLs, tried in turn from `startIndex` whenever a connection is lost. */
  urls: string[];
  startIndex?: number;
  rooms: string[];
  /** Whether to reconnect when the connection is lost. */
  reconnect?: boolean;
}

/**
 * A test client that behaves as a careful SDK does. It keeps one logical log per room across
 * connections and resumes with `since` and the epoch after every reconnect, to the next node in
 * its list. It retries each send with the same clientMessageId until it is acknowledged. Every
 * event frame is recorded as it arrived, duplicates included, for the delivery checker.
 */
export class ResumingClient {
  readonly log: ReceivedLog;
  readonly sends: SendAttempt[] = [];
  readonly presence: Array<{ room: string; action: string; userId: string; at: number }> = [];
  /** Typing frames, each with the number of events received before it, to check their order. */
  readonly typing: Array<{ room: string; userId: string; typing: boolean; at: number; eventsBefore: number }> = [];
  /** Frames other than events and replies, for checks on errors. */
  readonly errors: Frame[] = [];
  /** Number of connections opened (1 while the first one lasts). */
  connections = 0;
  members = new Map<string, Member[]>();
  private readonly options: ResumingClientOptions;
  private socket: WebSocket | undefined;
  private urlIndex: number;
  private epoch: string | undefined;
  private readonly lastSeq = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private requestCounter = 0;
  private sendCounter = 0;
  private ready: Promise<void> | undefined;
  /** The socket on which every room has been joined. */
  private joinedSocket: WebSocket | undefined;
  private closed = false;

  constructor(options: ResumingClientOptions) {
    this.options = options;
    this.urlIndex = options.startIndex ?? 0;
    this.log = { client: options.name, events: [], firstSeq: {} };
  }

  get name(): string {
    return this.options.name;
  }

  get rooms(): readonly string[] {
    return this.options.rooms;
  }

  get isConnected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects (or reconnects) and joins every room; resolves once every `joined` reply arrived. */
  connect(): Promise<void> {
    if (this.joinedSocket !== undefined && this.joinedSocket === this.socket && this.isConnected) {
      return Promise.resolve();
    }
    this.ready ??= this.connectUntilJoined().finally(() => {
      this.ready = undefined;
    });
    return this.ready;
  }

  /** Sends a message, retrying with the same clientMessageId until acknowledged or out of time. */
  async send(room: string, content: string): Promise<SendAttempt> {
    this.sendCounter++;
    const attempt: SendAttempt = {
      room,
      senderId: this.options.userId,
      clientMessageId: `${this.options.name}-${this.sendCounter}`,
      content,
    };
    this.sends.push(attempt);

    const deadline = Date.now() + SEND_DEADLINE_MS;
    while (Date.now() < deadline && !this.closed) {
      try {
        await this.connect();
        const reply = await this.request({ type: 'send', room, clientMessageId: attempt.clientMessageId, content });
        if (reply.type === 'sent') {
          attempt.ack = { seq: reply.seq, messageId: reply.messageId };
          return attempt;
        }
        if (reply.type === 'error') {
          this.errors.push(reply);
          const wait = reply.code === 'rate_limited' ? (reply.retryAfterMs ?? RETRY_DELAY_MS) : RETRY_DELAY_MS;
          await delay(wait);
          continue;
        }
      } catch {
        // The connection was lost or the reply did not come: retry with the same id.
        await delay(RETRY_DELAY_MS);
      }
    }
    return attempt;
  }

  /** Sends a request on the current connection and resolves with its reply. */
  request(frame: Record<string, unknown>): Promise<Frame> {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${this.options.name} is not connected`));
    }
    this.requestCounter++;
    const requestId = `${this.options.name}-q${this.requestCounter}`;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`${this.options.name}: no reply to ${String(frame['type'])} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.send(JSON.stringify({ ...frame, requestId }));
    });
  }

  /** Sends a frame that has no reply, such as a typing indicator. */
  notify(frame: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify(frame));
  }

  /** Events of one room in arrival order. */
  eventsIn(room: string): RoomEvent[] {
    return this.log.events.filter((event) => event.room === room);
  }

  /** Seq of the last event received in a room, 0 before any. */
  lastSeqIn(room: string): number {
    return this.lastSeq.get(room) ?? 0;
  }

  /** Drops the TCP connection without a close frame; the client then reconnects on its own. */
  dropConnection(): void {
    this.socket?.terminate();
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    for (const pending of this.pending.values()) {
      pending.reject(new Error('client closed'));
    }
    this.pending.clear();
  }

  private async connectUntilJoined(): Promise<void> {
    let attempts = 0;
    for (;;) {
      if (this.closed) {
        throw new Error(`${this.options.name} is closed`);
      }
      const url = this.options.urls[this.urlIndex % this.options.urls.length] as string;
      try {
        await this.open(url);
        return;
      } catch {
        attempts++;
        this.socket?.terminate();
        this.urlIndex++;
        if (attempts > 200) {
          throw new Error(`${this.options.name} could not connect to any node`);
        }
        await delay(RECONNECT_DELAY_MS);
      }
    }
  }

  private async open(url: string): Promise<void> {
    const socket = new WebSocket(url, 'confab.v1', { handshakeTimeout: CONNECT_TIMEOUT_MS });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.connections++;
    socket.on('error', () => {});
    socket.on('message', (data) => this.receive(JSON.parse(data.toString()) as Frame));
    socket.on('close', () => this.handleClose(socket));

    const welcome = await this.request({ type: 'auth', token: this.options.token });
    if (welcome.type !== 'welcome') {
      throw new Error(`${this.options.name}: auth failed: ${JSON.stringify(welcome)}`);
    }
    const previousEpoch = this.epoch;
    this.epoch = welcome.epoch;

    for (const room of this.options.rooms) {
      const since = this.lastSeq.get(room);
      const join: Record<string, unknown> = { type: 'join', room };
      if (since !== undefined && previousEpoch !== undefined) {
        join['since'] = since;
        join['epoch'] = previousEpoch;
      }
      const joined = await this.request(join);
      if (joined.type !== 'joined') {
        throw new Error(`${this.options.name}: join ${room} failed: ${JSON.stringify(joined)}`);
      }
      this.members.set(room, joined.members);
      if (since === undefined) {
        this.lastSeq.set(room, joined.headSeq);
        this.log.firstSeq ??= {};
        this.log.firstSeq[room] ??= joined.headSeq + 1;
      } else if (!joined.resumed) {
        this.errors.push({ type: 'error', code: 'internal', message: `resume of ${room} from ${since} was refused` });
      }
    }
    this.joinedSocket = socket;
  }

  private receive(frame: Frame): void {
    if ('requestId' in frame && typeof frame.requestId === 'string' && this.pending.has(frame.requestId)) {
      const pending = this.pending.get(frame.requestId);
      this.pending.delete(frame.requestId);
      pending?.resolve(frame);
      return;
    }
    switch (frame.type) {
      case 'event':
        this.log.events.push(frame.event);
        this.lastSeq.set(frame.event.room, Math.max(this.lastSeq.get(frame.event.room) ?? 0, frame.event.seq));
        return;
      case 'presence':
        this.presence.push({ room: frame.room, action: frame.action, userId: frame.user.id, at: Date.now() });
        return;
      case 'members':
        this.members.set(frame.room, frame.members);
        return;
      case 'typing':
        this.typing.push({
          room: frame.room,
          userId: frame.user.id,
          typing: frame.typing,
          at: Date.now(),
          eventsBefore: this.log.events.length,
        });
        return;
      default:
        this.errors.push(frame);
    }
  }

  private handleClose(socket: WebSocket): void {
    if (socket !== this.socket) {
      return;
    }
    for (const pending of this.pending.values()) {
      pending.reject(new Error('connection closed'));
    }
    this.pending.clear();
    if (this.closed || this.options.reconnect === false) {
      return;
    }
    this.urlIndex++;
    setTimeout(() => {
      if (!this.closed) {
        this.connect().catch(() => {});
      }
    }, RECONNECT_DELAY_MS);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
