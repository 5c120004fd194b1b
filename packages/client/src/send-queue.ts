import { countCodePoints, type RoomEvent, type SentFrame } from '@confab/protocol';

import { Backoff } from './backoff.js';
import { ConfabError } from './confab-error.js';
import { createClientMessageId } from './create-client-message-id.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import type { RoomLink } from './room-link.js';
import { classifySendError } from './send-error-policy.js';

/** The server's confirmation that a message is stored. */
export interface SendAck {
  seq: number;
  messageId: string;
  timestamp: number;
  /** True when an earlier transmission of the same message had already stored it. */
  duplicate: boolean;
}

/** A message sent from this client that has not been delivered back yet. */
export interface PendingMessage {
  readonly clientMessageId: string;
  readonly content: string;
  /** `pending` while queued, in flight or stored but not yet delivered; `failed` once rejected. */
  readonly status: 'pending' | 'failed';
  readonly error?: ConfabError;
  /** Time of the `send()` call, in milliseconds since the Unix epoch. */
  readonly createdAt: number;
}

/** Rate-limited sends with no `retryAfterMs` wait this long. */
const DEFAULT_RETRY_AFTER_MS = 1000;

interface Waiter {
  resolve(ack: SendAck): void;
  reject(error: ConfabError): void;
}

/** The room's side of a `SendQueue`. */
export interface SendQueueHost {
  readonly name: string;
  readonly link: RoomLink;
  /** Whether the room is joined on a live connection, so sends may go out. */
  canTransmit(): boolean;
  /** Seq of the last event delivered to the app, or null before the first join. */
  lastSeq(): number | null;
  rejoin(): void;
  /** Called whenever the pending list changes. */
  pendingChanged(): void;
}

/**
 * A room's outgoing messages: validates them, keeps them in an outbox until they are stored and
 * delivered back, transmits one at a time in order, and retries by the error's policy.
 */
export class SendQueue {
  readonly #host: SendQueueHost;
  readonly #outbox = new Outbox<ConfabError>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #retryBackoff: Backoff;
  #transmitting = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending: readonly PendingMessage[] = [];

  constructor(host: SendQueueHost) {
    this.#host = host;
    this.#retryBackoff = new Backoff(host.link.settings.sendRetry);
  }

  /** Pending and failed messages in send order; a new array after every change. */
  get pending(): readonly PendingMessage[] {
    return this.#pending;
  }

  send(content: unknown): Promise<SendAck> {
    const invalid = this.#validate(content);
    if (invalid !== null) {
      return Promise.reject(invalid);
    }

    const clientMessageId = createClientMessageId();
    this.#outbox.add(clientMessageId, content as string, Date.now());
    const promise = this.#wait(clientMessageId);
    this.#changed();
    this.pump();
    return promise;
  }

  retry(clientMessageId: string): Promise<SendAck> {
    const entry = this.#outbox.get(clientMessageId);
    if (entry === undefined || entry.status !== 'failed') {
      return Promise.reject(
        new ConfabError('invalid_field', `no failed message with clientMessageId ${clientMessageId} to retry`, {
          field: 'clientMessageId',
        }),
      );
    }

    this.#outbox.retry(clientMessageId, Date.now());
    const promise = this.#wait(clientMessageId);
    this.#changed();
    this.pump();
    return promise;
  }

  discard(clientMessageId: string): void {
    const entry = this.#outbox.get(clientMessageId);
    if (entry === undefined || entry.status !== 'failed') {
      // A message that may already be in flight cannot be recalled: the server could store it
      // after the app forgot it.
      throw new ConfabError(
        'invalid_field',
        `no failed message with clientMessageId ${clientMessageId} to discard; only failed messages can be discarded`,
        { field: 'clientMessageId' },
      );
    }
    this.#outbox.remove(clientMessageId);
    this.#changed();
  }

  /** Transmits the next message if the room is ready and none is in flight. */
  pump(): void {
    clearTimeout(this.#timer);
    if (this.#transmitting || !this.#host.canTransmit()) {
      return;
    }

    const now = Date.now();
    const action = this.#outbox.nextAction(now);
    if (action.kind === 'wait') {
      this.#timer = setTimeout(() => this.pump(), action.untilMs - now);
      return;
    }
    if (action.kind === 'idle') {
      return;
    }

    const entry = action.entry;
    this.#outbox.markInflight(entry.clientMessageId);
    this.#transmitting = true;
    this.#host.link
      .request({
        type: 'send',
        room: this.#host.name,
        clientMessageId: entry.clientMessageId,
        content: entry.content,
      })
      .then(
        (sent) => this.#acknowledged(entry.clientMessageId, sent),
        (error: unknown) => this.#failed(entry, error),
      )
      .finally(() => {
        this.#transmitting = false;
        this.pump();
      });
  }

  /** Requeues the message in flight after the connection dropped; it goes out again after the next join. */
  connectionLost(): void {
    clearTimeout(this.#timer);
    this.#outbox.requeueInflight();
  }

  /**
   * Settles the messages among `events` that this client sent, and drops acknowledged entries up
   * to `lastSeq`. Call it with every batch delivered to the app, history pages included.
   */
  delivered(events: readonly RoomEvent[], lastSeq: number): void {
    let changed = false;
    // Matched by clientMessageId alone: a random UUID from this client, and the sender id
    // may differ when a guest session was replaced by a new one.
    for (const event of events) {
      const entry = this.#outbox.remove(event.clientMessageId);
      if (entry !== undefined) {
        changed = true;
        this.#resolve(event.clientMessageId, {
          seq: event.seq,
          messageId: event.id,
          timestamp: event.timestamp,
          duplicate: false,
        });
      }
    }
    if (this.#outbox.removeDeliveredUpTo(lastSeq).length > 0) {
      changed = true;
    }
    if (changed) {
      this.#changed();
    }
  }

  /**
   * Drops acknowledged entries after the room's log was reset: their seqs belong to a log this
   * client no longer follows, and the reloaded history shows them if they are recent.
   */
  dropAcknowledged(): void {
    let changed = false;
    for (const entry of [...this.#outbox.entries()]) {
      if (entry.status === 'acked') {
        this.#outbox.remove(entry.clientMessageId);
        changed = true;
      }
    }
    if (changed) {
      this.#changed();
    }
  }

  /** Fails every message not yet stored, rejecting their promises with `error`. */
  failUnsent(error: ConfabError): void {
    clearTimeout(this.#timer);
    const failed = this.#outbox.failUnsent(error);
    for (const entry of failed) {
      this.#reject(entry.clientMessageId, error);
    }
    if (failed.length > 0) {
      this.#changed();
    }
  }

  #validate(content: unknown): ConfabError | null {
    if (typeof content !== 'string') {
      return new ConfabError('invalid_field', `content must be a string, got ${typeof content}`, { field: 'content' });
    }
    if (content.trim() === '') {
      return new ConfabError('invalid_field', 'content is blank; send at least one visible character', {
        field: 'content',
      });
    }
    const maxCodePoints = this.#host.link.limits.maxContentCodePoints;
    const length = countCodePoints(content);
    if (length > maxCodePoints) {
      return new ConfabError(
        'too_large',
        `content is ${length} code points long, over the server's limit of ${maxCodePoints}; shorten or split it`,
        { field: 'content' },
      );
    }
    return null;
  }

  #acknowledged(clientMessageId: string, sent: SentFrame): void {
    this.#outbox.acknowledge(clientMessageId, sent.seq);
    this.#resolve(clientMessageId, {
      seq: sent.seq,
      messageId: sent.messageId,
      timestamp: sent.timestamp,
      duplicate: sent.duplicate,
    });

    const lastSeq = this.#host.lastSeq();
    if (lastSeq !== null && sent.seq <= lastSeq) {
      this.#outbox.remove(clientMessageId);
    }
    this.#changed();
  }

  #failed(sent: OutboxEntry<ConfabError>, cause: unknown): void {
    const entry = this.#outbox.get(sent.clientMessageId);
    // Gone (delivered back or discarded) or already settled by a close while in flight.
    if (entry === undefined || entry.status === 'acked' || entry.status === 'failed') {
      return;
    }

    const error =
      cause instanceof ConfabError ? cause : new ConfabError('internal', `send failed: ${String(cause)}`, { cause });
    const now = Date.now();
    const action = classifySendError(error.code);
    this.#host.link.logger.debug('send failed', {
      room: this.#host.name,
      clientMessageId: entry.clientMessageId,
      code: error.code,
      action,
    });

    switch (action) {
      case 'requeue':
        this.#outbox.requeueInflight();
        break;
      case 'retry_after':
        this.#outbox.defer(entry.clientMessageId, now + (error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS));
        break;
      case 'backoff': {
        const ceilingMs = this.#retryBackoff.ceilingMs(entry.failures);
        this.#outbox.defer(entry.clientMessageId, now + Math.floor(Math.random() * ceilingMs));
        break;
      }
      case 'rejoin':
        this.#outbox.defer(entry.clientMessageId, now);
        this.#host.rejoin();
        break;
      case 'fail':
        this.#outbox.fail(entry.clientMessageId, error);
        this.#reject(entry.clientMessageId, error);
        this.#changed();
        break;
    }
  }

  #wait(clientMessageId: string): Promise<SendAck> {
    return new Promise<SendAck>((resolve, reject) => {
      const waiters = this.#waiters.get(clientMessageId) ?? [];
      waiters.push({ resolve, reject });
      this.#waiters.set(clientMessageId, waiters);
    });
  }

  #resolve(clientMessageId: string, ack: SendAck): void {
    const waiters = this.#waiters.get(clientMessageId);
    this.#waiters.delete(clientMessageId);
    for (const waiter of waiters ?? []) {
      waiter.resolve(ack);
    }
  }

  #reject(clientMessageId: string, error: ConfabError): void {
    const waiters = this.#waiters.get(clientMessageId);
    this.#waiters.delete(clientMessageId);
    for (const waiter of waiters ?? []) {
      waiter.reject(error);
    }
  }

  #changed(): void {
    this.#pending = this.#outbox.entries().map((entry): PendingMessage => {
      const pending = {
        clientMessageId: entry.clientMessageId,
        content: entry.content,
        status: entry.status === 'failed' ? ('failed' as const) : ('pending' as const),
        createdAt: entry.createdAt,
      };
      return entry.error === undefined ? pending : { ...pending, error: entry.error };
    });
    this.#host.pendingChanged();
  }
}
