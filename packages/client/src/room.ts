import type {
  HistoryFrame,
  JoinedFrame,
  Member,
  MembersFrame,
  PresenceFrame,
  RoomEvent,
  TypingFrame,
  UserRef,
} from '@confab/protocol';

import { ConfabError } from './confab-error.js';
import { EventSequencer } from './event-sequencer.js';
import { applyPresence } from './member-list.js';
import type { RoomLink } from './room-link.js';
import { RoomTyping } from './room-typing.js';
import { SendQueue, type PendingMessage, type SendAck } from './send-queue.js';
import { TypedEmitter } from './typed-emitter.js';

/**
 * State of a room: `joining` until the server confirms the join (and again while the
 * connection is down), `joined`, `failed` when the server rejected the join, `left` after the
 * last holder left it.
 */
export type RoomStatus = 'joining' | 'joined' | 'failed' | 'left';

/** Everything the app renders for a room, frozen; a new object after every change. */
export interface RoomSnapshot {
  readonly name: string;
  readonly status: RoomStatus;
  /** Delivered events in ascending seq order, each once. */
  readonly messages: readonly RoomEvent[];
  readonly pending: readonly PendingMessage[];
  readonly members: readonly Member[];
  readonly typingUsers: readonly UserRef[];
  readonly hasMoreHistory: boolean;
  readonly loadingOlder: boolean;
  /** Reason of the failed join, when `status` is `failed`. */
  readonly error: ConfabError | null;
}

export interface RoomEvents {
  /** One delivered event, in seq order, never twice. */
  message: RoomEvent;
  /** The server could not resume the room, so `messages` was cleared and is being reloaded. */
  reset: { headSeq: number };
  presence: { action: 'join' | 'leave'; user: UserRef };
  members: readonly Member[];
  typing: readonly UserRef[];
  pending: readonly PendingMessage[];
  joined: { headSeq: number; resumed: boolean };
  error: ConfabError;
  /** Any change of the room's state; carries the new snapshot. */
  change: RoomSnapshot;
}

/** History requests in a row that may return none of the missing events before the gap is skipped. */
const MAX_FRUITLESS_GAP_FILLS = 3;

/** Pause before asking again for missing events or for a join that timed out, in milliseconds. */
const RETRY_DELAY_MS = 1000;

/**
 * One joined room: its ordered messages, members, typing users and outgoing messages. Get it
 * from `client.room(name)` and release it with `leave()`.
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly #link: RoomLink;
  readonly #sendQueue: SendQueue;
  readonly #typing: RoomTyping;
  #references = 0;
  #status: RoomStatus = 'joining';
  #error: ConfabError | null = null;
  /** Null until the first join: the room has no cursor to resume from yet. */
  #sequencer: EventSequencer<RoomEvent> | null = null;
  /** Epoch of the session in which the cursor was read; sent back on a resuming join. */
  #epoch: string | null = null;
  #messages: readonly RoomEvent[] = [];
  #members: readonly Member[] = [];
  #olderExhausted = false;
  #tailLoaded = false;
  #olderRequest: Promise<number> | null = null;
  /** `#resets` when `#olderRequest` was sent; a page of a log that was since reset is ignored. */
  #olderRequestResets = 0;
  /** Bumped by every join attempt, so that replies to an older attempt are ignored. */
  #joinAttempt = 0;
  /** Bumped when the log is reset, so that history pages of the old log are ignored. */
  #resets = 0;
  /**
   * Seq the room must reach before queued messages go out after a join; null when it has. A
   * message whose ack was lost with the old connection may already be stored, and catching up
   * first lets its event settle it instead of a resend. The resend would be stored twice when
   * the new session has another user id, as a guest's does.
   */
  #catchUpSeq: number | null = null;
  #awaitingTail = false;
  #fillingGap = false;
  #fruitlessFills = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #snapshot: RoomSnapshot | null = null;

  /** @internal Rooms are created by `ConfabClient.room()`. */
  constructor(name: string, link: RoomLink) {
    super();
    this.name = name;
    this.#link = link;
    this.emitterLogger = link.logger;
    this.#sendQueue = new SendQueue({
      name,
      link,
      canTransmit: () => this.#status === 'joined' && this.#link.connected && this.#catchUpSeq === null,
      lastSeq: () => this.#sequencer?.lastSeq ?? null,
      rejoin: () => this.#join(),
      pendingChanged: () => {
        this.emit('pending', this.#sendQueue.pending);
        this.#changed();
      },
    });
    this.#typing = new RoomTyping({
      renewIntervalMs: link.settings.typingRenewIntervalMs,
      idleMs: link.settings.typingIdleMs,
      remoteExpiryMs: () => this.#link.limits.typingTimeoutMs + this.#link.settings.typingLeewayMs,
      send: (typing) => this.#sendTyping(typing),
      onRemoteExpired: () => this.#typingChanged(),
    });
  }

  get status(): RoomStatus {
    return this.#status;
  }

  get messages(): readonly RoomEvent[] {
    return this.#messages;
  }

  get pending(): readonly PendingMessage[] {
    return this.#sendQueue.pending;
  }

  get members(): readonly Member[] {
    return this.#members;
  }

  get typingUsers(): readonly UserRef[] {
    return this.snapshot.typingUsers;
  }

  /** Seq of the last delivered event, or null before the first join. */
  get lastSeq(): number | null {
    return this.#sequencer?.lastSeq ?? null;
  }

  /** Whether older messages than the oldest loaded one exist. */
  get hasMoreHistory(): boolean {
    if (this.#sequencer === null || this.#olderExhausted) {
      return false;
    }
    return this.#oldestKnownSeq() > 1;
  }

  get loadingOlder(): boolean {
    return this.#olderRequest !== null;
  }

  get snapshot(): RoomSnapshot {
    this.#snapshot ??= Object.freeze({
      name: this.name,
      status: this.#status,
      messages: this.#messages,
      pending: this.#sendQueue.pending,
      members: this.#members,
      typingUsers: this.#typing.users,
      hasMoreHistory: this.hasMoreHistory,
      loadingOlder: this.loadingOlder,
      error: this.#error,
    });
    return this.#snapshot;
  }

  /**
   * Sends a message. Resolves with the server's ack once the message is stored; rejects with a
   * `ConfabError` when it cannot be (`too_large`, `invalid_field`, `forbidden`, `closed`, …).
   * While offline the message waits in `pending` and goes out after the next join.
   */
  send(content: string): Promise<SendAck> {
    if (this.#status === 'left') {
      return Promise.reject(new ConfabError('closed', `room ${this.name} was left; get it again with client.room()`));
    }
    if (this.#status === 'failed' && this.#error !== null) {
      return Promise.reject(this.#error);
    }

    this.#typing.messageSent();
    return this.#sendQueue.send(content);
  }

  /** Resends a failed message under its original clientMessageId. */
  retry(clientMessageId: string): Promise<SendAck> {
    return this.#sendQueue.retry(clientMessageId);
  }

  /** Drops a failed message from `pending`. Throws for a message that is not failed. */
  discard(clientMessageId: string): void {
    this.#sendQueue.discard(clientMessageId);
  }

  /**
   * Reports the local user's typing: `true` on each keystroke, `false` when the input is cleared.
   * Frames are throttled, and a stop goes out by itself after a pause.
   */
  setTyping(typing: boolean): void {
    if (this.#status === 'left') {
      return;
    }
    this.#typing.setLocal(typing);
  }

  /**
   * Loads the page of messages before the oldest loaded one; resolves with how many were added
   * (0 when there are no more). Concurrent calls share one request.
   */
  loadOlder(limit: number = this.#link.limits.historyDefaultLimit): Promise<number> {
    if (this.#olderRequest !== null && this.#olderRequestResets === this.#resets) {
      return this.#olderRequest;
    }
    const sequencer = this.#sequencer;
    if (sequencer === null || !this.hasMoreHistory) {
      return Promise.resolve(0);
    }

    const resets = this.#resets;
    const pageSize = Math.max(1, Math.min(Math.floor(limit), this.#link.limits.historyMaxLimit));
    const request = this.#link
      .request({ type: 'history', room: this.name, before: this.#oldestKnownSeq(), limit: pageSize })
      .then((page) => (resets === this.#resets ? this.#prependPage(page) : 0))
      .finally(() => {
        if (this.#olderRequest === request) {
          this.#olderRequest = null;
        }
        this.#changed();
      });
    this.#olderRequest = request;
    this.#olderRequestResets = resets;
    this.#changed();
    return request;
  }

  /** Releases this holder's reference; the room is left when the last holder releases it. */
  leave(): void {
    if (this.#references === 0) {
      this.#link.logger.warn('room.leave() called more often than client.room()', { room: this.name });
      return;
    }
    this.#references--;
    if (this.#references === 0) {
      this.#link.release(this.name);
    }
  }

  /** @internal */
  get references(): number {
    return this.#references;
  }

  /** @internal Counts one more holder. */
  acquire(): void {
    this.#references++;
  }

  /** @internal The client has a new authenticated session: join, resuming where the room stopped. */
  handleConnected(): void {
    this.#join();
  }

  /** @internal The connection dropped; everything waits for the next session. */
  handleDisconnected(): void {
    this.#joinAttempt++;
    clearTimeout(this.#retryTimer);
    this.#sendQueue.connectionLost();
    this.#typing.reset();
    if (this.#status === 'joined') {
      this.#status = 'joining';
    }
    this.#changed();
  }

  /** @internal The client was closed: messages not yet stored fail with `error`. */
  handleClosed(error: ConfabError): void {
    this.handleDisconnected();
    this.#sendQueue.failUnsent(error);
  }

  /** @internal The room was left for good. */
  dispose(): void {
    this.handleClosed(new ConfabError('closed', `room ${this.name} was left before the message was stored`));
    this.#typing.dispose();
    this.#status = 'left';
    this.#changed();
  }

  /** @internal */
  handleEvent(event: RoomEvent): void {
    if (this.#sequencer === null || this.#status === 'left') {
      return;
    }
    this.#deliver(this.#sequencer.push([event]));
    this.#fillGapIfAny();
  }

  /** @internal */
  handlePresence(frame: PresenceFrame): void {
    this.#members = applyPresence(this.#members, frame.action, frame.user);
    if (frame.action === 'leave') {
      this.#typing.removeRemote(frame.user.id);
    }
    this.emit('presence', { action: frame.action, user: frame.user });
    this.emit('members', this.#members);
    this.#typingChanged();
  }

  /** @internal */
  handleMembers(frame: MembersFrame): void {
    this.#members = frame.members;
    this.emit('members', this.#members);
    this.#changed();
  }

  /** @internal */
  handleTyping(frame: TypingFrame): void {
    // Another tab of the same user is still the local user.
    if (frame.user.id === this.#link.user?.id) {
      return;
    }
    if (this.#typing.applyRemote(frame.user, frame.typing)) {
      this.#typingChanged();
    }
  }

  #join(): void {
    if (this.#status === 'left' || !this.#link.connected) {
      return;
    }

    clearTimeout(this.#retryTimer);
    const attempt = ++this.#joinAttempt;
    const frame: { type: 'join'; room: string; since?: number; epoch?: string } = { type: 'join', room: this.name };
    if (this.#sequencer !== null && this.#epoch !== null) {
      frame.since = this.#sequencer.lastSeq;
      frame.epoch = this.#epoch;
    }
    if (this.#status !== 'joining') {
      this.#status = 'joining';
      this.#changed();
    }

    // The reply is applied in `onReply`, synchronously, because the replayed events that follow
    // `joined` may be dispatched before a promise continuation would run.
    this.#link
      .request(frame, (joined) => this.#applyJoined(joined, attempt))
      .catch((error: unknown) => this.#joinFailed(error, attempt));
  }

  #applyJoined(joined: JoinedFrame, attempt: number): void {
    if (attempt !== this.#joinAttempt || this.#status === 'left') {
      return;
    }

    const hadCursor = this.#sequencer !== null;
    this.#status = 'joined';
    this.#error = null;
    this.#members = joined.members;
    this.#epoch = this.#link.epoch;
    this.#fruitlessFills = 0;
    this.#catchUpSeq = joined.headSeq;
    if (!joined.resumed) {
      // Without a resumable cursor the room starts over at the head; what came before is
      // loaded as history.
      this.#sequencer = new EventSequencer(joined.headSeq);
      this.#messages = [];
      this.#olderExhausted = false;
      this.#tailLoaded = false;
      this.#resets++;
      this.#sendQueue.dropAcknowledged();
    }

    if (hadCursor && !joined.resumed) {
      this.#link.logger.info('room could not be resumed and is reloaded', { room: this.name, headSeq: joined.headSeq });
      this.emit('reset', { headSeq: joined.headSeq });
    }
    this.emit('joined', { headSeq: joined.headSeq, resumed: joined.resumed });
    this.emit('members', this.#members);
    this.#changed();

    if (!this.#tailLoaded && this.hasMoreHistory) {
      // After a reset the latest page replaces the replay that a resumed join would get.
      this.#awaitingTail = !joined.resumed;
      this.loadOlder(this.#link.settings.initialHistoryLimit)
        .catch((error: unknown) => {
          this.#link.logger.warn('loading the latest messages failed', { room: this.name, error });
        })
        .finally(() => {
          if (attempt === this.#joinAttempt) {
            this.#awaitingTail = false;
            this.#checkCaughtUp(attempt);
          }
        });
    }
    this.#checkCaughtUp(attempt);
  }

  /** Lets queued messages go out once the room has caught up with the head its join reported. */
  #checkCaughtUp(attempt: number): void {
    if (this.#catchUpSeq === null || this.#awaitingTail) {
      return;
    }
    if (attempt !== this.#joinAttempt || this.#status !== 'joined') {
      return;
    }
    if ((this.#sequencer?.lastSeq ?? 0) >= this.#catchUpSeq) {
      this.#catchUpSeq = null;
      this.#sendQueue.pump();
    }
  }

  #joinFailed(cause: unknown, attempt: number): void {
    if (attempt !== this.#joinAttempt || this.#status === 'left') {
      return;
    }

    const error = cause instanceof ConfabError ? cause : new ConfabError('internal', String(cause), { cause });
    if (error.code === 'disconnected' || error.code === 'closed') {
      // The next session joins again.
      return;
    }
    if (error.code === 'timeout' || error.code === 'unavailable' || error.code === 'internal') {
      this.#link.logger.warn('join failed, retrying', { room: this.name, code: error.code });
      this.#retryTimer = setTimeout(() => this.#join(), RETRY_DELAY_MS);
      return;
    }

    this.#link.logger.warn('join rejected', { room: this.name, code: error.code });
    this.#status = 'failed';
    this.#error = error;
    this.#sendQueue.failUnsent(error);
    this.emit('error', error);
    this.#changed();
  }

  #deliver(events: readonly RoomEvent[]): void {
    if (events.length === 0 || this.#sequencer === null) {
      return;
    }

    // NOTE: `messages` grows for as long as the room is held. Trimming it would need
    // `loadOlder` to fetch the trimmed pages again, which it does not do yet.
    this.#messages = [...this.#messages, ...events];
    let typingChanged = false;
    for (const event of events) {
      // The server ends a sender's typing when their message is stored.
      typingChanged = this.#typing.removeRemote(event.sender.id) || typingChanged;
    }
    this.#sendQueue.delivered(events, this.#sequencer.lastSeq);
    for (const event of events) {
      this.emit('message', event);
    }
    if (typingChanged) {
      this.emit('typing', this.#typing.users);
    }
    this.#changed();
    this.#checkCaughtUp(this.#joinAttempt);
  }

  #prependPage(page: HistoryFrame): number {
    const oldest = this.#oldestKnownSeq();
    const older = page.events.filter((event) => event.seq < oldest);
    if (!page.hasMore) {
      this.#olderExhausted = true;
    }
    this.#tailLoaded = true;
    this.#messages = [...older, ...this.#messages];
    this.#sendQueue.delivered(older, this.#sequencer?.lastSeq ?? 0);
    return older.length;
  }

  #oldestKnownSeq(): number {
    return this.#messages[0]?.seq ?? (this.#sequencer?.lastSeq ?? 0) + 1;
  }

  #fillGapIfAny(): void {
    if (this.#sequencer?.gap != null && this.#status === 'joined' && !this.#fillingGap) {
      void this.#fillGap();
    }
  }

  /** Fetches missing events with `history {after}` until the buffered ones can be delivered. */
  async #fillGap(): Promise<void> {
    this.#fillingGap = true;
    const resets = this.#resets;
    try {
      for (;;) {
        const sequencer = this.#sequencer;
        const gap = sequencer?.gap;
        if (sequencer == null || gap == null || this.#status !== 'joined' || resets !== this.#resets) {
          return;
        }

        const missing = gap.beforeSeq - gap.afterSeq - 1;
        this.#link.logger.debug('fetching missing events', { room: this.name, afterSeq: gap.afterSeq, missing });
        const page = await this.#link.request({
          type: 'history',
          room: this.name,
          after: gap.afterSeq,
          limit: Math.min(missing, this.#link.limits.historyMaxLimit),
        });
        if (resets !== this.#resets || sequencer !== this.#sequencer) {
          return;
        }

        const before = sequencer.lastSeq;
        this.#deliver(sequencer.push(page.events));
        if (sequencer.lastSeq > before) {
          this.#fruitlessFills = 0;
          continue;
        }

        this.#fruitlessFills++;
        if (this.#fruitlessFills < MAX_FRUITLESS_GAP_FILLS) {
          this.#retryTimer = setTimeout(() => this.#fillGapIfAny(), RETRY_DELAY_MS);
          return;
        }
        this.#skipGap(sequencer);
      }
    } catch (error) {
      const code = error instanceof ConfabError ? error.code : 'internal';
      this.#link.logger.warn('fetching missing events failed', { room: this.name, code });
      if (code !== 'disconnected' && code !== 'closed') {
        this.#retryTimer = setTimeout(() => this.#fillGapIfAny(), RETRY_DELAY_MS);
      }
    } finally {
      this.#fillingGap = false;
    }
  }

  #skipGap(sequencer: EventSequencer<RoomEvent>): void {
    const gap = sequencer.gap;
    if (gap === null) {
      return;
    }
    const error = new ConfabError(
      'sequence_gap',
      `room ${this.name}: events ${gap.afterSeq + 1} to ${gap.beforeSeq - 1} could not be fetched and were skipped`,
    );
    this.#link.logger.error(error.message, { room: this.name });
    this.#fruitlessFills = 0;
    this.#deliver(sequencer.skipGap());
    this.emit('error', error);
  }

  #sendTyping(typing: boolean): void {
    if (this.#status === 'joined' && this.#link.connected) {
      this.#link.notify({ type: 'typing', room: this.name, typing });
    }
  }

  #typingChanged(): void {
    this.emit('typing', this.#typing.users);
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = null;
    this.emit('change', this.snapshot);
  }
}
