import { performance } from 'node:perf_hooks';

import type { UserRef } from '@confab/protocol';
import type { Logger } from 'pino';

import type { TypingListener, TypingService } from '../typing-service.js';
import type { RedisLink } from './redis-link.js';
import type { RoomChannelMessage, RoomChannels } from './room-channels.js';
import { TypingAggregator } from './typing-aggregator.js';

export interface RedisTypingOptions {
  /** A start expires after this many milliseconds unless renewed. */
  timeoutMs: number;
}

/** Renewals of one user's typing are published at most this often; a trailing one follows. */
const RENEWAL_PUBLISH_INTERVAL_MS = 1000;
/** Extra time other nodes give a report before expiring it, for the trip through Redis. */
const REMOTE_EXPIRY_LEEWAY_MS = 1000;

interface LocalTyping {
  room: string;
  user: UserRef;
  connectionId: string;
  /** `performance.now()` at which the indicator expires unless renewed. */
  deadline: number;
  expiryTimer: NodeJS.Timeout;
  lastPublished: number;
  trailingTimer: NodeJS.Timeout | undefined;
}

interface TypingMessage extends RoomChannelMessage {
  kind: 'typing';
  user: UserRef;
  typing: boolean;
  /** Time left before the report expires on its own, in milliseconds. */
  expiresInMs: number;
}

/**
 * Typing indicators across the cluster. Each node keeps the typing state of its own connections
 * (expiry, renewal, clearing on disconnect, leave and send) and publishes each change on the room's
 * channel. Every node combines its own and the others' reports into one indicator per user. The
 * stop that a sent message causes is published on the same connection and channel as the message
 * itself, before it, so other nodes see the stop first too.
 *
 * While Redis is away, other nodes stop hearing this node's reports and expire them after their
 * remaining time; local members keep seeing local typing.
 */
export class RedisTyping implements TypingService {
  private readonly local = new Map<string, LocalTyping>();
  private readonly aggregator: TypingAggregator;
  private readonly timeoutMs: number;
  private listener: TypingListener = () => {};

  constructor(
    private readonly link: RedisLink,
    private readonly channels: RoomChannels,
    private readonly logger: Logger,
    options: RedisTypingOptions,
  ) {
    this.timeoutMs = options.timeoutMs;
    this.aggregator = new TypingAggregator(() => this.listener);
    link.retain();
  }

  async start(listener: TypingListener): Promise<void> {
    this.listener = listener;
    this.channels.on('typing', (room, message) => this.receive(room, message));
    await this.link.connect();
  }

  setTyping(room: string, user: UserRef, connectionId: string, typing: boolean): void {
    const key = localKey(room, user.id);
    const entry = this.local.get(key);

    if (!typing) {
      if (entry !== undefined) {
        this.stop(key, entry);
      }
      return;
    }

    const now = performance.now();
    if (entry !== undefined) {
      clearTimeout(entry.expiryTimer);
      entry.connectionId = connectionId;
      entry.deadline = now + this.timeoutMs;
      entry.expiryTimer = this.expireLater(key);
      this.publishRenewal(entry);
      return;
    }

    const created: LocalTyping = {
      room,
      user,
      connectionId,
      deadline: now + this.timeoutMs,
      expiryTimer: this.expireLater(key),
      lastPublished: now,
      trailingTimer: undefined,
    };
    this.local.set(key, created);
    this.aggregator.report(room, user, this.link.nodeInstanceId, true);
    this.publish(room, user, true, this.timeoutMs);
  }

  clearConnection(room: string, userId: string, connectionId: string): void {
    const key = localKey(room, userId);
    const entry = this.local.get(key);
    if (entry !== undefined && entry.connectionId === connectionId) {
      this.stop(key, entry);
    }
  }

  async close(): Promise<void> {
    for (const entry of this.local.values()) {
      clearTimeout(entry.expiryTimer);
      clearTimeout(entry.trailingTimer);
    }
    this.local.clear();
    this.aggregator.clear();
    await this.link.release();
  }

  private stop(key: string, entry: LocalTyping): void {
    clearTimeout(entry.expiryTimer);
    clearTimeout(entry.trailingTimer);
    this.local.delete(key);
    this.aggregator.report(entry.room, entry.user, this.link.nodeInstanceId, false);
    this.publish(entry.room, entry.user, false, 0);
  }

  private expireLater(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const entry = this.local.get(key);
      if (entry !== undefined) {
        this.stop(key, entry);
      }
    }, this.timeoutMs);
    timer.unref();
    return timer;
  }

  /** Publishes a renewal now, or once the throttle interval has passed. */
  private publishRenewal(entry: LocalTyping): void {
    const now = performance.now();
    const sinceLast = now - entry.lastPublished;
    if (sinceLast >= RENEWAL_PUBLISH_INTERVAL_MS) {
      entry.lastPublished = now;
      this.publish(entry.room, entry.user, true, entry.deadline - now);
      return;
    }
    if (entry.trailingTimer !== undefined) {
      return;
    }
    entry.trailingTimer = setTimeout(() => {
      entry.trailingTimer = undefined;
      if (this.local.get(localKey(entry.room, entry.user.id)) !== entry) {
        return;
      }
      const firedAt = performance.now();
      entry.lastPublished = firedAt;
      this.publish(entry.room, entry.user, true, entry.deadline - firedAt);
    }, RENEWAL_PUBLISH_INTERVAL_MS - sinceLast);
    entry.trailingTimer.unref();
  }

  private publish(room: string, user: UserRef, typing: boolean, expiresInMs: number): void {
    if (!this.link.isReady) {
      return;
    }
    const message: TypingMessage = {
      node: this.link.nodeInstanceId,
      kind: 'typing',
      user: { id: user.id, name: user.name },
      typing,
      expiresInMs: Math.max(0, Math.round(expiresInMs)),
    };
    this.channels.publish(room, message).catch((error: unknown) => {
      // Typing is ephemeral: other nodes expire a report that they do not hear renewed.
      this.logger.debug({ err: error, room }, 'typing publish failed');
    });
  }

  private receive(room: string, message: RoomChannelMessage): void {
    const typing = message as TypingMessage;
    if (typeof typing.user?.id !== 'string' || typeof typing.user.name !== 'string' || typeof typing.typing !== 'boolean') {
      this.logger.warn({ room, node: message.node }, 'dropped a malformed typing message from Redis');
      return;
    }
    const expiresInMs = Math.min(Number(typing.expiresInMs) || 0, this.timeoutMs) + REMOTE_EXPIRY_LEEWAY_MS;
    this.aggregator.report(room, typing.user, message.node, typing.typing, expiresInMs);
  }
}

// NUL cannot occur in a room name, so the key is unambiguous.
function localKey(room: string, userId: string): string {
  return `${room}\u0000${userId}`;
}
