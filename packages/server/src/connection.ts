import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';

import {
  CLOSE_CODES,
  countCodePoints,
  decodeClientFrame,
  PROTOCOL_VERSION,
  toWellFormedText,
  type AuthFrame,
  type ClientFrame,
  type HistoryRequestFrame,
  type JoinFrame,
  type LeaveFrame,
  type SendFrame,
  type ServerFrame,
  type TypingRequestFrame,
} from '@confab/protocol';
import type { RawData, WebSocket } from 'ws';

import type { AuthenticatedUser } from './authenticator.js';
import { ConfabError } from './confab-error.js';
import type { ConnectionContext } from './connection-context.js';
import { ConnectionLog } from './connection-log.js';
import { PeerSocket, type PeerSocketOwner } from './peer-socket.js';
import { StoreUnavailableError } from './store/message-store.js';
import { Subscription, type SubscriptionOwner } from './subscription.js';
import { TokenBucket } from './token-bucket.js';

/** Refill rate of the invalid-frame allowance, in frames per second. */
const INVALID_FRAME_REFILL_PER_SECOND = 1;
/** Frames that change what later frames mean; the ones after them wait until they finish. */
const ORDERING_FRAME_TYPES: ReadonlySet<ClientFrame['type']> = new Set(['auth', 'join', 'leave']);

/**
 * One client's session: authentication, the rooms it has joined, and the handling of its frames.
 * Frames are handled in arrival order. `auth`, `join` and `leave` finish before later frames start,
 * but sends start at once, so that a client's burst is written in one store batch.
 */
export class Connection implements SubscriptionOwner, PeerSocketOwner {
  readonly connectionId = randomUUID();
  private user: AuthenticatedUser | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly peer: PeerSocket;
  /** Created at the first invalid frame: most connections never send one. */
  private invalidFrames: TokenBucket | undefined;
  private authTimer: NodeJS.Timeout | undefined;
  private ordering: Promise<void> = Promise.resolve();
  private readonly logger: ConnectionLog;
  private closed = false;

  /**
   * @param socket The socket under `ws`, from the upgrade: frames are written to it directly.
   * @param remoteAddress The peer's address, for the log.
   */
  constructor(
    ws: WebSocket,
    socket: Duplex,
    private readonly context: ConnectionContext,
    remoteAddress: string | undefined,
  ) {
    const { config } = context;
    this.logger = new ConnectionLog(context.logger, this);
    this.peer = new PeerSocket(ws, socket, config, context.heartbeat, this.logger, context.peerObserver, this);

    this.authTimer = setTimeout(() => {
      this.logger.info({}, 'closing connection: no auth frame in time');
      this.peer.close(CLOSE_CODES.authTimeout, 'authentication timed out');
    }, config.authTimeoutMs);
    this.authTimer.unref();

    ws.on('message', (data, isBinary) => this.handleMessage(data, isBinary));
    ws.on('close', (code, reason) => this.handleClose(code, reason.toString()));
    ws.on('error', (error) => {
      // ws reports protocol violations (bad UTF-8, reserved opcodes, oversized frames) here and
      // closes the socket with the matching code itself.
      this.logger.info({ err: error }, 'websocket error');
    });
    this.logger.info({ remoteAddress }, 'connection opened');
  }

  get userId(): string {
    return this.user?.id ?? '';
  }

  sendEncoded(data: Buffer, kind: 'event' | 'typing' | 'presence', room: string): boolean {
    return this.peer.send(data, kind, room);
  }

  countDeliveries(count: number): void {
    this.context.metrics.deliveries.inc(count);
  }

  bufferRecovered(rooms: string[]): void {
    void this.resendMembers(rooms);
  }

  waitForDrain(): Promise<boolean> {
    return this.peer.waitForDrain();
  }

  /** Closes the socket with a code and reason, as server shutdown does. */
  close(code: number, reason: string): void {
    this.peer.close(code, reason);
  }

  private sendFrame(frame: ServerFrame): void {
    this.peer.sendText(JSON.stringify(frame));
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.peer.close(CLOSE_CODES.unsupportedData, 'binary frames are not supported; send JSON text');
      return;
    }

    const decoded = decodeClientFrame(data.toString());
    if (!decoded.ok) {
      this.rejectInvalidFrame(decoded.error);
      return;
    }

    const frame = decoded.frame;
    if (ORDERING_FRAME_TYPES.has(frame.type)) {
      this.ordering = this.ordering.then(() => this.dispatch(frame));
    } else {
      void this.ordering.then(() => this.dispatch(frame));
    }
  }

  private rejectInvalidFrame(error: { code: ServerErrorCode; message: string; requestId?: string; field?: string }): void {
    const frame: ServerFrame = { type: 'error', code: error.code, message: error.message };
    this.context.metrics.countError(error.code);
    if (error.requestId !== undefined) {
      frame.requestId = error.requestId;
    }
    if (error.field !== undefined) {
      frame.field = error.field;
    }
    this.sendFrame(frame);

    const { invalidFrameBurst } = this.context.config;
    this.invalidFrames ??= new TokenBucket(INVALID_FRAME_REFILL_PER_SECOND, invalidFrameBurst, Date.now());
    if (this.invalidFrames.take(Date.now()) > 0) {
      this.logger.warn({}, 'closing connection: too many invalid frames');
      this.peer.close(CLOSE_CODES.policyViolation, 'too many invalid frames');
    }
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    if (this.closed) {
      return;
    }
    try {
      if (frame.type === 'auth') {
        await this.handleAuth(frame);
        return;
      }
      if (this.user === undefined) {
        throw new ConfabError('unauthorized', `${frame.type}: authenticate first with an "auth" frame`);
      }

      switch (frame.type) {
        case 'join':
          await this.handleJoin(frame, this.user);
          break;
        case 'leave':
          await this.handleLeave(frame);
          break;
        case 'send':
          await this.handleSend(frame, this.user);
          break;
        case 'history':
          await this.handleHistory(frame, this.user);
          break;
        case 'typing':
          this.handleTyping(frame, this.user);
          break;
        case 'ping':
          this.sendFrame({ type: 'pong', requestId: frame.requestId, serverTime: this.context.now() });
          break;
      }
    } catch (error) {
      this.sendError(frame.requestId, error);
    }
  }

  private async handleAuth(frame: AuthFrame): Promise<void> {
    if (this.user !== undefined) {
      throw new ConfabError('already_authenticated', 'auth: this connection is already authenticated');
    }

    let user: AuthenticatedUser;
    try {
      user = await this.context.authenticator.authenticate(frame);
    } catch (error) {
      this.sendError(frame.requestId, error);
      if (error instanceof ConfabError && error.code !== 'invalid_field') {
        this.logger.info({ code: error.code }, 'authentication failed');
        this.peer.close(CLOSE_CODES.authFailed, 'authentication failed');
      }
      return;
    }
    if (this.closed) {
      return;
    }

    const { config, userConnections } = this.context;
    if (!userConnections.tryAdd(user.id, config.maxConnectionsPerUser)) {
      this.sendError(
        frame.requestId,
        new ConfabError(
          'too_many_connections',
          `user already holds ${config.maxConnectionsPerUser} connections; close one and retry`,
        ),
      );
      this.peer.close(CLOSE_CODES.tooManyConnections, 'too many connections for this user');
      return;
    }

    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    this.user = user;
    this.logger.info({ guest: user.guest }, 'authenticated');
    this.sendFrame({
      type: 'welcome',
      requestId: frame.requestId,
      protocol: PROTOCOL_VERSION,
      sessionId: this.connectionId,
      user: { id: user.id, name: user.name, guest: user.guest },
      epoch: this.context.services.store.epoch,
      limits: {
        maxFrameBytes: config.maxFrameBytes,
        maxContentCodePoints: config.maxContentCodePoints,
        maxRoomsPerConnection: config.maxRoomsPerConnection,
        maxConnectionsPerUser: config.maxConnectionsPerUser,
        historyMaxLimit: config.historyMaxLimit,
        historyDefaultLimit: config.historyDefaultLimit,
        typingTimeoutMs: config.typingTimeoutMs,
        sendRatePerSecond: config.sendRatePerSecond,
        sendBurst: config.sendBurst,
      },
      pingIntervalMs: config.pingIntervalMs,
    });
  }

  private async handleJoin(frame: JoinFrame, user: AuthenticatedUser): Promise<void> {
    const { room } = frame;
    const { services, hub, config } = this.context;
    this.checkAccess(room, user);

    if (frame.since !== undefined && frame.epoch === undefined) {
      throw new ConfabError('invalid_field', 'join: "epoch" from welcome is required with "since"', {
        field: 'epoch',
      });
    }

    const existing = this.subscriptions.get(room);
    if (existing !== undefined) {
      const members = await services.presence.members(room);
      this.sendFrame({
        type: 'joined',
        requestId: frame.requestId,
        room,
        headSeq: existing.deliveredSeq,
        resumed: false,
        members,
      });
      return;
    }
    if (this.subscriptions.size >= config.maxRoomsPerConnection) {
      throw new ConfabError(
        'too_many_rooms',
        `join: this connection has joined ${config.maxRoomsPerConnection} rooms, the maximum; leave one first`,
      );
    }

    // The subscription listens before the head is read, so that no event committed in between
    // is missed: such an event only raises the subscription's known head and is caught up.
    const subscription = new Subscription(room, this, services.store, this.logger);
    this.subscriptions.set(room, subscription);
    hub.add(subscription);

    let headSeq: number;
    let members;
    try {
      await services.presence.add(room, { id: user.id, name: user.name }, this.connectionId);
      headSeq = await services.store.headSeq(room);
      members = await services.presence.members(room);
    } catch (error) {
      await this.dropSubscription(subscription);
      throw error;
    }
    if (this.closed || this.subscriptions.get(room) !== subscription) {
      return;
    }

    const resumed = frame.since !== undefined && frame.since <= headSeq && frame.epoch === services.store.epoch;
    if (frame.since !== undefined) {
      this.context.metrics.resumes.inc({ result: resumed ? 'resumed' : 'reset' });
    }
    this.sendFrame({ type: 'joined', requestId: frame.requestId, room, headSeq, resumed, members });
    subscription.start(resumed ? (frame.since ?? headSeq) : headSeq, headSeq);
    this.logger.debug({ room, since: frame.since, headSeq, resumed }, 'joined room');
  }

  private async handleLeave(frame: LeaveFrame): Promise<void> {
    const subscription = this.subscriptions.get(frame.room);
    if (subscription === undefined) {
      throw new ConfabError('not_joined', `leave: this connection has not joined room "${frame.room}"`);
    }
    await this.dropSubscription(subscription);
    this.sendFrame({ type: 'left', requestId: frame.requestId, room: frame.room });
  }

  private async handleSend(frame: SendFrame, user: AuthenticatedUser): Promise<void> {
    const receivedAtMs = performance.now();
    const { room } = frame;
    const { services, hub, config, metrics } = this.context;
    if (!this.subscriptions.has(room)) {
      throw new ConfabError('not_joined', `send: join room "${room}" before sending to it`);
    }

    const content = toWellFormedText(frame.content);
    if (content.trim().length === 0) {
      throw new ConfabError('invalid_field', 'send: field "content" must not be empty or blank', { field: 'content' });
    }
    const length = countCodePoints(content);
    if (length > config.maxContentCodePoints) {
      throw new ConfabError(
        'too_large',
        `send: content is ${length} code points; the maximum is ${config.maxContentCodePoints}`,
        { field: 'content' },
      );
    }

    const decision = await services.rateLimiter.take(user.id);
    if (!decision.allowed) {
      metrics.rateLimited.inc();
      throw new ConfabError('rate_limited', `send: rate limit reached; retry in ${decision.retryAfterMs} ms`, {
        retryAfterMs: decision.retryAfterMs,
      });
    }

    // A message ends the sender's typing indicator before the message itself is delivered.
    services.typing.setTyping(room, { id: user.id, name: user.name }, this.connectionId, false);

    const appendStartedAtMs = performance.now();
    const { event, duplicate } = await this.context.track(
      services.store.append({
        room,
        kind: 'message',
        sender: { id: user.id, name: user.name },
        clientMessageId: frame.clientMessageId,
        content,
      }),
    );
    metrics.storeAppend.observe((performance.now() - appendStartedAtMs) / 1000);
    this.sendFrame({
      type: 'sent',
      requestId: frame.requestId,
      room,
      seq: event.seq,
      messageId: event.id,
      timestamp: event.timestamp,
      duplicate,
    });
    metrics.sendToAck.observe((performance.now() - receivedAtMs) / 1000);
    if (!duplicate) {
      metrics.messagesReceived.inc();
    }

    // A duplicate is offered again too: when the first attempt's ack was lost with its connection
    // (or its node died between commit and publish), no member may have received the event yet.
    // Subscribers that already have it drop it by seq.
    hub.deliver(event);
    metrics.brokerPublished.inc();
    services.broker.publish(room, { kind: 'event', event }).catch((error: unknown) => {
      this.logger.warn({ err: error, room, seq: event.seq }, 'broker publish failed; other nodes catch up from the store');
    });
  }

  private async handleHistory(frame: HistoryRequestFrame, user: AuthenticatedUser): Promise<void> {
    const { room } = frame;
    const { services, config } = this.context;
    this.checkAccess(room, user);
    if (frame.before !== undefined && frame.after !== undefined) {
      throw new ConfabError('invalid_field', 'history: give "before" or "after", not both', { field: 'after' });
    }

    const limit = Math.min(frame.limit ?? config.historyDefaultLimit, config.historyMaxLimit);
    const query: Parameters<typeof services.store.range>[0] = { room, limit };
    if (frame.before !== undefined) {
      query.before = frame.before;
    }
    if (frame.after !== undefined) {
      query.after = frame.after;
    }
    const page = await services.store.range(query);
    this.sendFrame({ type: 'history', requestId: frame.requestId, room, events: page.events, hasMore: page.hasMore });
  }

  private handleTyping(frame: TypingRequestFrame, user: AuthenticatedUser): void {
    if (!this.subscriptions.has(frame.room)) {
      throw new ConfabError('not_joined', `typing: join room "${frame.room}" first`);
    }
    this.context.services.typing.setTyping(
      frame.room,
      { id: user.id, name: user.name },
      this.connectionId,
      frame.typing,
    );
  }

  private checkAccess(room: string, user: AuthenticatedUser): void {
    if (!user.access.allows(room)) {
      throw new ConfabError('forbidden', `room "${room}" is not among the rooms your token allows`);
    }
  }

  private async dropSubscription(subscription: Subscription): Promise<void> {
    const { hub, services } = this.context;
    if (this.subscriptions.get(subscription.room) === subscription) {
      this.subscriptions.delete(subscription.room);
    }
    hub.remove(subscription);
    services.typing.clearConnection(subscription.room, this.userId, this.connectionId);
    await services.presence.remove(subscription.room, this.userId, this.connectionId);
  }

  private async resendMembers(rooms: string[]): Promise<void> {
    for (const room of rooms) {
      if (!this.subscriptions.has(room)) {
        continue;
      }
      try {
        const members = await this.context.services.presence.members(room);
        this.peer.sendText(JSON.stringify({ type: 'members', room, members } satisfies ServerFrame));
      } catch (error) {
        this.logger.warn({ err: error, room }, 'could not resend the member list');
      }
    }
  }

  private sendError(requestId: string | undefined, error: unknown): void {
    const frame: ServerFrame = { type: 'error', code: 'internal', message: 'internal server error; retry the request' };
    if (error instanceof ConfabError) {
      frame.code = error.code;
      frame.message = error.message;
      if (error.field !== undefined) {
        frame.field = error.field;
      }
      if (error.retryAfterMs !== undefined) {
        frame.retryAfterMs = error.retryAfterMs;
      }
    } else if (error instanceof StoreUnavailableError) {
      frame.code = 'unavailable';
      frame.message = 'the message store is unavailable; retry later';
      this.logger.warn({ err: error }, 'store unavailable');
    } else {
      this.logger.error({ err: error }, 'request failed');
    }
    if (requestId !== undefined) {
      frame.requestId = requestId;
    }
    this.context.metrics.countError(frame.code);
    this.sendFrame(frame);
  }

  private handleClose(code: number, reason: string): void {
    this.closed = true;
    clearTimeout(this.authTimer);
    this.peer.dispose();
    this.context.connectionClosed(this);
    this.logger.info({ code, reason }, 'connection closed');

    const user = this.user;
    if (user === undefined) {
      return;
    }
    this.context.userConnections.remove(user.id);
    for (const subscription of [...this.subscriptions.values()]) {
      this.dropSubscription(subscription).catch((error: unknown) => {
        this.logger.warn({ err: error, room: subscription.room }, 'could not clear presence after close');
      });
    }
  }
}

type ServerErrorCode = Extract<ServerFrame, { type: 'error' }>['code'];
