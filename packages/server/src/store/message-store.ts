import type { EventKind, RoomEvent, UserRef } from '@confab/protocol';

/** A new entry for a room's log. The store assigns its seq, id and timestamp. */
export interface AppendRequest {
  room: string;
  kind: EventKind;
  sender: UserRef;
  /** Idempotency key, unique per (room, sender id). */
  clientMessageId: string;
  content: string;
}

export interface AppendResult {
  event: RoomEvent;
  /** True when the (room, sender, clientMessageId) was stored before: `event` is that first one. */
  duplicate: boolean;
}

/**
 * A page request: `after` and `before` are exclusive seq bounds; with neither, the newest page.
 * With both, the page starts just after `after` and ends before `before`.
 */
export interface RangeQuery {
  room: string;
  after?: number;
  before?: number;
  limit: number;
}

export interface RangeResult {
  /** Events in ascending seq order. */
  events: RoomEvent[];
  /** Whether more events exist beyond the page: newer ones for `after`, older ones otherwise. */
  hasMore: boolean;
}

/**
 * The durable per-room log. Implementations assign each room's seq gap-free from 1, commit an
 * event before `append` resolves, and keep the (room, sender id, clientMessageId) dedupe forever.
 * A store that cannot be reached rejects with `StoreUnavailableError`.
 */
export interface MessageStore {
  /** Opens the store (creating or migrating its schema) and resolves when it is ready. */
  open(): Promise<void>;
  /** Identifies this log; changes only when the log is created anew. Valid after `open`. */
  readonly epoch: string;
  append(request: AppendRequest): Promise<AppendResult>;
  range(query: RangeQuery): Promise<RangeResult>;
  /** Seq of the room's latest event, 0 when it has none. */
  headSeq(room: string): Promise<number>;
  /** Resolves when the store is reachable; rejects otherwise. Used by `/readyz`. */
  check(): Promise<void>;
  /** Finishes the writes under way, then closes. */
  close(): Promise<void>;
  /**
   * Called after each committed write transaction with the number of appends it carried and how
   * long the write took, in milliseconds. Stores that write in batches call it; others need not.
   */
  onBatchCommitted?: (size: number, durationMs: number) => void;
}

/** The store cannot be reached or cannot commit right now; the request may be retried. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
