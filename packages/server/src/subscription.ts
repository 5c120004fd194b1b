import type { RoomEvent } from '@confab/protocol';

import type { EventLog } from './connection-log.js';
import type { MessageStore } from './store/message-store.js';
import { encodeTextFrame } from './wire-frame.js';

/** Largest page a subscription reads from the store while catching up. */
const CATCH_UP_PAGE_SIZE = 100;
/** Wait before retrying a catch-up read that failed, in milliseconds. */
const CATCH_UP_RETRY_MS = 1000;

/** The connection that owns a subscription, as the subscription uses it. */
export interface SubscriptionOwner {
  readonly connectionId: string;
  readonly userId: string;
  /** Queues a frame for the peer; returns false when it was dropped or the socket is closed. */
  sendEncoded(data: Buffer, kind: 'event' | 'typing' | 'presence', room: string): boolean;
  /** Resolves true once the peer's send buffer is low enough for more, false if it closed. */
  waitForDrain(): Promise<boolean>;
  /** Adds events sent during catch-up to the delivery count. */
  countDeliveries(count: number): void;
}

/**
 * One connection's membership of one room, and its cursor in the room's log. Every event reaches
 * the peer exactly once and in seq order. An event at the cursor is sent at once, and one behind it
 * is dropped as a duplicate. One ahead of it makes the subscription read the missing range from
 * the store first. Resume after a reconnect is the same catch-up from the client's `since`.
 */
export class Subscription {
  /** Seq of the next event the peer should get. */
  private nextSeq = 1;
  /** Highest seq known to exist in the room. */
  private knownHeadSeq = 0;
  /** Whether the cursor is set; events before that only raise `knownHeadSeq`. */
  private started = false;
  private catchingUp = false;
  private closed = false;

  constructor(
    readonly room: string,
    readonly owner: SubscriptionOwner,
    private readonly store: MessageStore,
    private readonly logger: EventLog,
  ) {}

  /** Whether presence and typing may be sent: only after the `joined` reply went out. */
  get isStarted(): boolean {
    return this.started && !this.closed;
  }

  /** Seq of the last event the peer has been sent. */
  get deliveredSeq(): number {
    return this.nextSeq - 1;
  }

  /** Sets the cursor after the `joined` reply and catches up to `headSeq` if the peer is behind. */
  start(lastSeenSeq: number, headSeq: number): void {
    this.nextSeq = lastSeenSeq + 1;
    this.knownHeadSeq = Math.max(this.knownHeadSeq, headSeq);
    this.started = true;
    if (this.nextSeq <= this.knownHeadSeq) {
      void this.catchUp();
    }
  }

  /**
   * Offers a live event, with its `event` frame as `encodeTextFrame` built it for every subscriber.
   * Returns whether the frame was queued for the peer now.
   */
  offer(event: RoomEvent, encoded: Buffer): boolean {
    if (this.closed) {
      return false;
    }
    if (event.seq > this.knownHeadSeq) {
      this.knownHeadSeq = event.seq;
    }
    if (!this.started || event.seq < this.nextSeq) {
      return false;
    }

    if (event.seq === this.nextSeq && !this.catchingUp) {
      if (this.owner.sendEncoded(encoded, 'event', this.room)) {
        this.nextSeq++;
        return true;
      }
      return false;
    }
    void this.catchUp();
    return false;
  }

  close(): void {
    this.closed = true;
  }

  private async catchUp(): Promise<void> {
    if (this.catchingUp) {
      return;
    }
    this.catchingUp = true;
    try {
      while (!this.closed && this.nextSeq <= this.knownHeadSeq) {
        if (!(await this.owner.waitForDrain())) {
          return;
        }
        const page = await this.store.range({
          room: this.room,
          after: this.nextSeq - 1,
          limit: CATCH_UP_PAGE_SIZE,
        });
        if (this.closed) {
          return;
        }
        if (!this.sendPage(page.events)) {
          return;
        }
      }
    } catch (error) {
      this.logger.warn({ err: error, room: this.room }, 'catch-up read failed; retrying');
      const retry = setTimeout(() => void this.catchUp(), CATCH_UP_RETRY_MS);
      retry.unref();
    } finally {
      this.catchingUp = false;
    }
  }

  /** Sends a page read from the store; returns false when nothing more can be sent now. */
  private sendPage(events: RoomEvent[]): boolean {
    if (events.length === 0) {
      // The store has nothing up to the known head yet, because a broker can outrun a replica.
      // The next live event or the retry below reads again.
      const retry = setTimeout(() => void this.catchUp(), CATCH_UP_RETRY_MS);
      retry.unref();
      return false;
    }
    if (events[0] !== undefined && events[0].seq > this.nextSeq) {
      // A store that skipped the cursor would make the loop read the same page forever. Wait and
      // read again instead, and log it, because a gap-free store never does this.
      this.logger.error({ room: this.room, expectedSeq: this.nextSeq, firstSeq: events[0].seq }, 'store page skips the cursor');
      const retry = setTimeout(() => void this.catchUp(), CATCH_UP_RETRY_MS);
      retry.unref();
      return false;
    }
    for (const event of events) {
      if (event.seq !== this.nextSeq) {
        continue;
      }
      const encoded = encodeTextFrame(JSON.stringify({ type: 'event', event }));
      if (!this.owner.sendEncoded(encoded, 'event', this.room)) {
        return false;
      }
      this.owner.countDeliveries(1);
      this.nextSeq++;
    }
    return true;
  }
}
