/**
 * The write side of the SQLite log: one transaction per batch of appends. It runs in the writer
 * worker thread for a database file, and in the calling thread for an in-memory database, which
 * no second connection can open.
 */
import { randomUUID } from 'node:crypto';

import type { EventKind } from '@confab/protocol';
import type Database from 'better-sqlite3';

/** One append as the writer receives it: plain data, so that it can cross to a worker thread. */
export interface BatchAppend {
  room: string;
  kind: EventKind;
  senderId: string;
  senderName: string;
  clientMessageId: string;
  /** The JSON payload of the event's kind, as stored in the `body` column. */
  body: string;
}

/** A stored row of the events table. */
export interface EventRow {
  room: string;
  seq: number;
  id: string;
  kind: string;
  sender_id: string;
  sender_name: string;
  client_message_id: string;
  body: string;
  created_at: number;
}

/** The result of one append: a new event, or the row that already held its idempotency key. */
export type BatchOutcome = { seq: number; id: string } | { duplicateOf: EventRow };

export const EVENT_COLUMNS =
  'room, seq, id, kind, sender_id, sender_name, client_message_id, body, created_at';

type InsertParameters = [
  room: string,
  seq: number,
  id: string,
  kind: string,
  senderId: string,
  senderName: string,
  clientMessageId: string,
  body: string,
  createdAt: number,
];

/** Sets the pragmas every connection to the log uses. Returns the journal mode now in effect. */
export function configureConnection(
  db: Database.Database,
  busyTimeoutMs: number,
  synchronous: 'full' | 'normal',
): string {
  // busy_timeout first, so that switching to WAL waits for other connections like writes do.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const journalMode = String(db.pragma('journal_mode = WAL', { simple: true }));
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  return journalMode;
}

/**
 * WAL pages after which the writer checkpoints by itself, inside a commit. The checkpointer thread
 * normally gets there first, so this only bounds the WAL (to about 200 MB) if that thread falls
 * behind. SQLite's default of 1000 made one commit in every few hundred wait for a checkpoint.
 */
export const WRITER_WAL_AUTOCHECKPOINT_PAGES = 50_000;

/** Sets the writer connection's checkpoint limit; see `WRITER_WAL_AUTOCHECKPOINT_PAGES`. */
export function configureWriter(db: Database.Database): void {
  db.pragma(`wal_autocheckpoint = ${WRITER_WAL_AUTOCHECKPOINT_PAGES}`);
}

/** Writes batches of appends to one connection, each batch in one transaction. */
export class SqliteBatchWriter {
  private readonly insert: Database.Statement<InsertParameters>;
  private readonly selectHead: Database.Statement<[string], number>;
  private readonly selectByKey: Database.Statement<[string, string, string], EventRow>;
  private readonly transaction: Database.Transaction<(batch: BatchAppend[], timestamp: number) => BatchOutcome[]>;
  // Reused by every batch to track each room's latest seq inside the transaction.
  private readonly heads = new Map<string, number>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<InsertParameters>(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, sender_id, client_message_id) DO NOTHING`,
    );
    this.selectHead = db
      .prepare<[string], number>('SELECT seq FROM events WHERE room = ? ORDER BY seq DESC LIMIT 1')
      .pluck();
    this.selectByKey = db.prepare<[string, string, string], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room = ? AND sender_id = ? AND client_message_id = ?`,
    );
    this.transaction = db.transaction((batch: BatchAppend[], timestamp: number) => this.writeRows(batch, timestamp));
  }

  /**
   * Commits the batch, in order, or nothing of it: a throw means the whole batch was rolled back.
   * BEGIN IMMEDIATE takes the write lock up front, so the heads read inside the transaction cannot
   * change under it, even when another process writes to the same file.
   */
  write(batch: BatchAppend[], timestamp: number): BatchOutcome[] {
    try {
      return this.transaction.immediate(batch, timestamp);
    } catch (error) {
      if (this.db.open && this.db.inTransaction) {
        this.db.exec('ROLLBACK');
      }
      throw error;
    }
  }

  private writeRows(batch: BatchAppend[], timestamp: number): BatchOutcome[] {
    const { heads } = this;
    heads.clear();
    const outcomes: BatchOutcome[] = [];

    for (const append of batch) {
      const { room, senderId, clientMessageId } = append;
      const head = heads.get(room) ?? this.selectHead.get(room) ?? 0;
      const seq = head + 1;
      const id = randomUUID();

      // The insert does nothing when the idempotency key exists, even from earlier in this batch.
      // The seq then stays free, and the first event is returned instead.
      const { changes } = this.insert.run(
        room,
        seq,
        id,
        append.kind,
        senderId,
        append.senderName,
        clientMessageId,
        append.body,
        timestamp,
      );
      if (changes === 1) {
        heads.set(room, seq);
        outcomes.push({ seq, id });
        continue;
      }

      heads.set(room, head);
      const original = this.selectByKey.get(room, senderId, clientMessageId);
      if (original === undefined) {
        throw new Error(`inserting ${clientMessageId} in room ${room} changed nothing, yet no event has its key`);
      }
      outcomes.push({ duplicateOf: original });
    }
    return outcomes;
  }
}
