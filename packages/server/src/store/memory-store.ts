import { randomUUID } from 'node:crypto';

import type { RoomEvent } from '@confab/protocol';

import {
  StoreUnavailableError,
  type AppendRequest,
  type AppendResult,
  type MessageStore,
  type RangeQuery,
  type RangeResult,
} from './message-store.js';

interface RoomLog {
  /** The room's events in seq order: `events[i]` has seq i + 1. */
  events: RoomEvent[];
  /** Events by sender id, then by clientMessageId: the idempotency key. */
  bySender: Map<string, Map<string, RoomEvent>>;
}

/**
 * A `MessageStore` in process memory, for tests and benchmarks: the log is lost when the process
 * ends, so each instance has its own epoch. Apart from durability it behaves like the SQLite store.
 * The events it returns are the stored objects themselves, so callers must not modify them.
 */
export class MemoryStore implements MessageStore {
  readonly epoch = randomUUID();

  private readonly rooms = new Map<string, RoomLog>();
  private closed = false;

  async open(): Promise<void> {
    this.requireOpen();
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.requireOpen();

    const log = this.roomLog(request.room);
    let sent = log.bySender.get(request.sender.id);
    const original = sent?.get(request.clientMessageId);
    if (original !== undefined) {
      return { event: original, duplicate: true };
    }

    const event: RoomEvent = {
      room: request.room,
      seq: log.events.length + 1,
      id: randomUUID(),
      kind: request.kind,
      sender: { id: request.sender.id, name: request.sender.name },
      timestamp: Date.now(),
      clientMessageId: request.clientMessageId,
      content: request.content,
    };
    log.events.push(event);
    if (sent === undefined) {
      sent = new Map();
      log.bySender.set(request.sender.id, sent);
    }
    sent.set(request.clientMessageId, event);
    return { event, duplicate: false };
  }

  async range(query: RangeQuery): Promise<RangeResult> {
    this.requireOpen();
    const { after, before, limit } = query;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Invalid range limit ${limit}; use an integer >= 1.`);
    }

    const events = this.rooms.get(query.room)?.events ?? [];
    // Indexes into `events` (seq - 1) of the first event with seq > after and of the first event
    // with seq >= before.
    const lowest = after === undefined ? 0 : clampIndex(Math.floor(after), events.length);
    const end =
      before === undefined ? events.length : clampIndex(Math.ceil(before) - 1, events.length);
    if (lowest >= end) {
      return { events: [], hasMore: false };
    }

    if (after !== undefined) {
      const pageEnd = Math.min(lowest + limit, end);
      return { events: events.slice(lowest, pageEnd), hasMore: pageEnd < end };
    }
    const pageStart = Math.max(lowest, end - limit);
    return { events: events.slice(pageStart, end), hasMore: pageStart > lowest };
  }

  async headSeq(room: string): Promise<number> {
    this.requireOpen();
    return this.rooms.get(room)?.events.length ?? 0;
  }

  async check(): Promise<void> {
    this.requireOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private roomLog(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (log === undefined) {
      log = { events: [], bySender: new Map() };
      this.rooms.set(room, log);
    }
    return log;
  }

  private requireOpen(): void {
    if (this.closed) {
      throw new StoreUnavailableError(
        'The in-memory message store is closed; requests after close() cannot be served.',
      );
    }
  }
}

function clampIndex(index: number, length: number): number {
  return Math.min(Math.max(index, 0), length);
}
