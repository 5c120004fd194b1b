import type { ServerFrame } from '@confab/protocol';
import { WebSocket } from 'ws';

const DEFAULT_WAIT_MS = 5000;

export interface ConnectOptions {
  protocols?: string[];
  headers?: Record<string, string>;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * A raw WebSocket client for tests: records every frame, lets a test wait for the next frame that
 * matches, and correlates replies by request id. Each frame is handed to one waiter only.
 */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<CloseInfo>;
  private readonly unclaimed: ServerFrame[] = [];
  private readonly waiters: { match: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void }[] = [];
  private requestCounter = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      this.frames.push(frame);
      const index = this.waiters.findIndex((waiter) => waiter.match(frame));
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        waiter?.resolve(frame);
      } else {
        this.unclaimed.push(frame);
      }
    });
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options.protocols ?? ['confab.v1'], { headers: options.headers ?? {} });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => {
        reject(new Error(`upgrade rejected with HTTP ${response.statusCode}`));
      });
    });
  }

  /** Connects and signs in as a guest; resolves with the client and its `welcome` frame. */
  static async guest(url: string, name: string): Promise<TestClient> {
    const client = await TestClient.connect(url);
    const welcome = await client.request({ type: 'auth', guest: { name } });
    if (welcome.type !== 'welcome') {
      throw new Error(`guest sign-in failed: ${JSON.stringify(welcome)}`);
    }
    client.welcome = welcome;
    return client;
  }

  /** Connects and signs in with a JWT; resolves with the client once its `welcome` frame arrived. */
  static async withToken(url: string, token: string): Promise<TestClient> {
    const client = await TestClient.connect(url);
    const welcome = await client.request({ type: 'auth', token });
    if (welcome.type !== 'welcome') {
      throw new Error(`token sign-in failed: ${JSON.stringify(welcome)}`);
    }
    client.welcome = welcome;
    return client;
  }

  welcome: Extract<ServerFrame, { type: 'welcome' }> | undefined;

  get userId(): string {
    if (this.welcome === undefined) {
      throw new Error('client has not authenticated');
    }
    return this.welcome.user.id;
  }

  nextRequestId(): string {
    this.requestCounter++;
    return `r${this.requestCounter}`;
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.ws.send(data, { binary: options.binary ?? false });
  }

  /** Sends a request with a fresh request id and resolves with the reply or error for it. */
  request(frame: Record<string, unknown>, timeoutMs = DEFAULT_WAIT_MS): Promise<ServerFrame> {
    const requestId = (frame['requestId'] as string | undefined) ?? this.nextRequestId();
    this.send({ ...frame, requestId });
    return this.waitFor((reply) => 'requestId' in reply && reply.requestId === requestId, timeoutMs);
  }

  /** Sends a request that should fail; resolves with its `error` frame, or throws for any other reply. */
  async requestError(frame: Record<string, unknown>, timeoutMs = DEFAULT_WAIT_MS): Promise<Extract<ServerFrame, { type: 'error' }>> {
    const reply = await this.request(frame, timeoutMs);
    if (reply.type !== 'error') {
      throw new Error(`expected an error reply to ${JSON.stringify(frame)}, got ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  async join(room: string, extra: Record<string, unknown> = {}): Promise<Extract<ServerFrame, { type: 'joined' }>> {
    const reply = await this.request({ type: 'join', room, ...extra });
    if (reply.type !== 'joined') {
      throw new Error(`join ${room} failed: ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  async sendMessage(room: string, content: string, clientMessageId?: string): Promise<Extract<ServerFrame, { type: 'sent' }>> {
    const reply = await this.request({
      type: 'send',
      room,
      clientMessageId: clientMessageId ?? `m-${Math.random().toString(36).slice(2)}`,
      content,
    });
    if (reply.type !== 'sent') {
      throw new Error(`send to ${room} failed: ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  /** Resolves with the first unclaimed frame that matches, waiting up to `timeoutMs` for it. */
  waitFor(match: (frame: ServerFrame) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<ServerFrame> {
    const index = this.unclaimed.findIndex(match);
    if (index >= 0) {
      const [frame] = this.unclaimed.splice(index, 1);
      return Promise.resolve(frame as ServerFrame);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: ServerFrame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; received ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  waitForType<T extends ServerFrame['type']>(
    type: T,
    match: (frame: Extract<ServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    return this.waitFor(
      (frame) => frame.type === type && match(frame as Extract<ServerFrame, { type: T }>),
      timeoutMs,
    ) as Promise<Extract<ServerFrame, { type: T }>>;
  }

  /** Returns the events received so far for a room, in arrival order. */
  eventsIn(room: string): Extract<ServerFrame, { type: 'event' }>['event'][] {
    return this.frames.flatMap((frame) => (frame.type === 'event' && frame.event.room === room ? [frame.event] : []));
  }

  /** Resolves once `count` events of the room have arrived. */
  async waitForEvents(room: string, count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.eventsIn(room).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} events in ${room}, got ${this.eventsIn(room).length}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves when no frame has arrived for `quietMs`. */
  async settle(quietMs = 150): Promise<void> {
    let count = -1;
    while (count !== this.frames.length) {
      count = this.frames.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
  }

  close(): void {
    this.ws.close();
  }

  /** Resolves with the close code and reason once the socket has closed, or throws after `timeoutMs`. */
  waitForClose(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** Cuts the TCP connection without a close frame, as a network failure would. */
  cut(): void {
    this.ws.terminate();
  }
}
