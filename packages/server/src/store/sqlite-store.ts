/**
 * The durable room log on SQLite (better-sqlite3), in WAL journal mode.
 *
 * What a resolved `append` survives depends on `synchronous`. Source: the SQLite documentation of
 * PRAGMA synchronous (https://www.sqlite.org/pragma.html#pragma_synchronous) and of WAL mode
 * (https://www.sqlite.org/wal.html, "Performance Considerations"), read for SQLite 3.53.
 *
 * - `full`: the writer syncs the WAL file at every commit. A resolved append survives a crash of
 *   the process and also an operating system crash or a power loss, provided the disk honours
 *   fsync. Each batch (one transaction) costs one sync.
 * - `normal`: the WAL file is synced only before each checkpoint, not at commit. A resolved append
 *   survives a crash of the process, because its commit has reached the operating system, which
 *   SQLite documents as durable across application crashes in every mode. After an operating system
 *   crash or a power loss the database stays consistent, but recently committed transactions may
 *   be rolled back, so acknowledged messages can disappear and their seqs be handed out again.
 *
 * In both modes a batch is committed whole or not at all.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { RoomEvent } from '@confab/protocol';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';

import {
  StoreUnavailableError,
  type AppendRequest,
  type AppendResult,
  type MessageStore,
  type RangeQuery,
  type RangeResult,
} from './message-store.js';
import { migrateSqliteSchema } from './sqlite-migrations.js';

/** How long a write waits for another connection's write lock before it fails, by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** The max number of appends written in one transaction, by default. */
export const DEFAULT_MAX_BATCH_SIZE = 512;

// Repeated batch failures (a full disk fails every batch) are logged at most this often.
const FAILURE_LOG_INTERVAL_MS = 1_000;

export interface SqliteStoreOptions {
  /** Database file, created with its parent directory when missing, or ':memory:'. */
  path: string;
  /** The `synchronous` pragma; the top of sqlite-store.ts states what each value guarantees. */
  synchronous: 'full' | 'normal';
  logger: Logger;
  /** How long a write waits for another connection's write lock, in milliseconds. */
  busyTimeoutMs?: number;
  /** Max number of appends written in one transaction. */
  maxBatchSize?: number;
}

/** Counters of the store's write path, for metrics and tests. */
export interface SqliteStoreStats {
  /** Batches committed, one transaction each. */
  transactionsCommitted: number;
  /** Batches whose transaction failed and whose appends were rejected. */
  transactionsFailed: number;
  /** Events stored; duplicates are not counted. */
  eventsAppended: number;
}

interface PendingAppend {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
  /** Set inside the transaction, handed to `resolve` once it has committed. */
  result: AppendResult | undefined;
}

interface EventRow {
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

type WriteBatchFunction = (batch: PendingAppend[], timestamp: number) => void;

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

const EVENT_COLUMNS =
  'room, seq, id, kind, sender_id, sender_name, client_message_id, body, created_at';

/**
 * A `MessageStore` on one SQLite file. Appends that arrive in the same event loop turn are written
 * together in one transaction (group commit), so a burst of messages pays for one sync, not one per
 * message.
 *
 * @example
 * const store = new SqliteStore({ path: 'data/confab.db', synchronous: 'full', logger });
 * await store.open();
 * const request = { room, kind: 'message', sender, clientMessageId, content } as const;
 * const { event, duplicate } = await store.append(request);
 */
export class SqliteStore implements MessageStore {
  onBatchCommitted?: (size: number, durationMs: number) => void;
  readonly stats: SqliteStoreStats = {
    transactionsCommitted: 0,
    transactionsFailed: 0,
    eventsAppended: 0,
  };

  private readonly path: string;
  private readonly synchronous: 'full' | 'normal';
  private readonly logger: Logger;
  private readonly busyTimeoutMs: number;
  private readonly maxBatchSize: number;

  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  private db: Database.Database | undefined;
  private statements: ReturnType<typeof prepareStatements> | undefined;
  private writeBatch: Database.Transaction<WriteBatchFunction> | undefined;
  private epochValue: string | undefined;

  private queue: PendingAppend[] = [];
  private flushHandle: NodeJS.Immediate | undefined;
  private readonly flushCallback = (): void => {
    this.flushHandle = undefined;
    this.flushBatch();
    if (this.queue.length > 0) {
      this.flushHandle = setImmediate(this.flushCallback);
    }
  };
  // Reused by every batch to track each room's latest seq inside the transaction.
  private readonly batchHeads = new Map<string, number>();

  private lastFailureLogMs = Number.NEGATIVE_INFINITY;
  private suppressedFailureLogs = 0;

  constructor(options: SqliteStoreOptions) {
    if (options.synchronous !== 'full' && options.synchronous !== 'normal') {
      throw new TypeError(
        `Invalid synchronous mode ${JSON.stringify(options.synchronous)}; use 'full' or 'normal'.`,
      );
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new RangeError(`Invalid busyTimeoutMs ${busyTimeoutMs}; use an integer >= 0.`);
    }
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError(`Invalid maxBatchSize ${maxBatchSize}; use an integer >= 1.`);
    }

    this.path = options.path;
    this.synchronous = options.synchronous;
    this.logger = options.logger;
    this.busyTimeoutMs = busyTimeoutMs;
    this.maxBatchSize = maxBatchSize;
  }

  get epoch(): string {
    if (this.epochValue === undefined) {
      throw new Error('SqliteStore.epoch was read before open() resolved; await open() first.');
    }
    return this.epochValue;
  }

  async open(): Promise<void> {
    if (this.state !== 'new') {
      throw new Error(
        `SqliteStore.open() was called on a store that is ${this.state}; open each store once.`,
      );
    }
    this.state = 'opening';

    let db: Database.Database | undefined;
    try {
      if (isFilePath(this.path)) {
        await mkdir(dirname(this.path), { recursive: true });
      }
      if (this.state !== 'opening') {
        throw new Error('close() was called while the store was opening');
      }

      db = new Database(this.path, { timeout: this.busyTimeoutMs });
      this.configureConnection(db);
      const migration = migrateSqliteSchema(db);
      const statements = prepareStatements(db);
      const epoch = statements.selectEpoch.get();
      if (epoch === undefined) {
        throw new Error(
          `the meta table has no epoch row, so the file is damaged; restore it from a backup`,
        );
      }

      this.db = db;
      this.statements = statements;
      this.writeBatch = db.transaction((batch: PendingAppend[], timestamp: number) => {
        this.writeBatchRows(batch, timestamp);
      });
      this.epochValue = epoch;
      this.state = 'open';
      this.logger.info(
        {
          path: this.path,
          synchronous: this.synchronous,
          epoch,
          schemaVersion: migration.toVersion,
          migratedFromVersion: migration.fromVersion,
        },
        'opened the SQLite message store',
      );
    } catch (error) {
      db?.close();
      if (this.state === 'opening') {
        this.state = 'new';
      }
      throw new StoreUnavailableError(
        `Failed to open the SQLite message store at ${this.path}: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.state !== 'open') {
      return Promise.reject(this.notOpenError());
    }

    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, resolve, reject, result: undefined });
      // setImmediate, not a microtask: it runs after the I/O callbacks of this loop turn, so the
      // sends of every socket that was readable in this turn join the same batch.
      if (this.flushHandle === undefined) {
        this.flushHandle = setImmediate(this.flushCallback);
      }
    });
  }

  async range(query: RangeQuery): Promise<RangeResult> {
    const statements = this.requireOpen();
    const { room, after, before, limit } = query;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`Invalid range limit ${limit}; use an integer >= 1.`);
    }

    // One row more than the page shows whether more events lie beyond it.
    const fetchLimit = limit + 1;
    let rows: EventRow[];
    let newestFirst = false;
    try {
      if (after !== undefined && before !== undefined) {
        rows = statements.selectBetween.all(room, after, before, fetchLimit);
      } else if (after !== undefined) {
        rows = statements.selectAfter.all(room, after, fetchLimit);
      } else if (before !== undefined) {
        rows = statements.selectBefore.all(room, before, fetchLimit);
        newestFirst = true;
      } else {
        rows = statements.selectNewest.all(room, fetchLimit);
        newestFirst = true;
      }
    } catch (error) {
      throw this.readFailedError(`read events of room ${JSON.stringify(room)}`, error);
    }

    const hasMore = rows.length > limit;
    if (hasMore) {
      rows.pop();
    }
    if (newestFirst) {
      rows.reverse();
    }
    return { events: rows.map(toRoomEvent), hasMore };
  }

  async headSeq(room: string): Promise<number> {
    const statements = this.requireOpen();
    try {
      return statements.selectHead.get(room) ?? 0;
    } catch (error) {
      throw this.readFailedError(`read the head seq of room ${JSON.stringify(room)}`, error);
    }
  }

  async check(): Promise<void> {
    const statements = this.requireOpen();
    try {
      statements.selectEpoch.get();
    } catch (error) {
      throw this.readFailedError('read the epoch', error);
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') {
      return;
    }
    this.state = 'closed';

    // Appends already accepted are written before the connection goes away; new ones are rejected
    // from here on because the state is closed.
    if (this.flushHandle !== undefined) {
      clearImmediate(this.flushHandle);
      this.flushHandle = undefined;
    }
    while (this.queue.length > 0) {
      this.flushBatch();
    }

    if (this.db !== undefined) {
      try {
        this.db.close();
      } catch (error) {
        this.logger.error({ err: error, path: this.path }, 'failed to close the SQLite database');
      }
      this.logger.info({ path: this.path, ...this.stats }, 'closed the SQLite message store');
    }
    this.db = undefined;
    this.statements = undefined;
    this.writeBatch = undefined;
  }

  private configureConnection(db: Database.Database): void {
    // busy_timeout first, so that switching to WAL waits for other connections like writes do.
    db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal' && isFilePath(this.path)) {
      this.logger.warn(
        { path: this.path, journalMode },
        'SQLite did not switch the database to WAL mode; writes will block readers',
      );
    }
    db.pragma(`synchronous = ${this.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // NOTE: SQLite runs the automatic checkpoint (every 1000 WAL pages by default) inside the
    // commit that crosses the threshold, so that batch blocks the event loop for the checkpoint's
    // writes and syncs. A checkpoint on a connection of its own, in a worker thread, would not.
    db.pragma('foreign_keys = ON');
  }

  /** Takes up to `maxBatchSize` queued appends, in call order, and commits them together. */
  private flushBatch(): void {
    if (this.queue.length === 0) {
      return;
    }

    let batch: PendingAppend[];
    if (this.queue.length <= this.maxBatchSize) {
      batch = this.queue;
      this.queue = [];
    } else {
      batch = this.queue.splice(0, this.maxBatchSize);
    }

    try {
      if (this.writeBatch === undefined) {
        throw new Error('the database connection is closed');
      }
      // BEGIN IMMEDIATE takes the write lock up front, so the heads read inside the transaction
      // cannot change under it, even when another process writes to the same file.
      const startedAtMs = performance.now();
      this.writeBatch.immediate(batch, Date.now());
      this.onBatchCommitted?.(batch.length, performance.now() - startedAtMs);
    } catch (error) {
      this.rollBackAfterFailure();
      this.stats.transactionsFailed++;
      this.logBatchFailure(error, batch.length);
      const failure = new StoreUnavailableError(
        `Failed to commit ${batch.length} appends to the SQLite message store at ${this.path}: ` +
          `${describeError(error)}; retry the requests`,
        { cause: error },
      );
      for (const pending of batch) {
        pending.result = undefined;
        pending.reject(failure);
      }
      return;
    }

    this.stats.transactionsCommitted++;
    for (const pending of batch) {
      const result = pending.result as AppendResult;
      pending.result = undefined;
      if (!result.duplicate) {
        this.stats.eventsAppended++;
      }
      pending.resolve(result);
    }
  }

  /** Runs inside the batch's transaction; any throw rolls the whole batch back. */
  private writeBatchRows(batch: PendingAppend[], timestamp: number): void {
    const { insert, selectHead, selectByKey } = this.statements!;
    const heads = this.batchHeads;
    heads.clear();

    for (const pending of batch) {
      const { request } = pending;
      const { room, sender, clientMessageId } = request;
      const head = heads.get(room) ?? selectHead.get(room) ?? 0;
      const seq = head + 1;
      const id = randomUUID();

      // The insert does nothing when the idempotency key exists, even from earlier in this batch.
      // The seq then stays free, and the first event is returned instead.
      const { changes } = insert.run(
        room,
        seq,
        id,
        request.kind,
        sender.id,
        sender.name,
        clientMessageId,
        encodeBody(request),
        timestamp,
      );
      if (changes === 1) {
        heads.set(room, seq);
        pending.result = {
          event: buildEvent(request, seq, id, timestamp),
          duplicate: false,
        };
        continue;
      }

      heads.set(room, head);
      const original = selectByKey.get(room, sender.id, clientMessageId);
      if (original === undefined) {
        throw new Error(
          `inserting ${clientMessageId} in room ${room} changed nothing, yet no event has its key`,
        );
      }
      pending.result = { event: toRoomEvent(original), duplicate: true };
    }
  }

  private rollBackAfterFailure(): void {
    const db = this.db;
    if (db === undefined || !db.open || !db.inTransaction) {
      return;
    }
    try {
      db.exec('ROLLBACK');
    } catch (error) {
      this.logger.error({ err: error, path: this.path }, 'failed to roll back a failed batch');
    }
  }

  private logBatchFailure(error: unknown, batchSize: number): void {
    const now = Date.now();
    if (now - this.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) {
      this.suppressedFailureLogs++;
      return;
    }

    this.logger.error(
      {
        err: error,
        path: this.path,
        batchSize,
        failuresSinceLastLog: this.suppressedFailureLogs,
      },
      'failed to commit a batch of appends; rejected them as store unavailable',
    );
    this.lastFailureLogMs = now;
    this.suppressedFailureLogs = 0;
  }

  private requireOpen(): ReturnType<typeof prepareStatements> {
    if (this.state !== 'open' || this.statements === undefined) {
      throw this.notOpenError();
    }
    return this.statements;
  }

  private notOpenError(): StoreUnavailableError {
    if (this.state === 'closed') {
      return new StoreUnavailableError(
        `The SQLite message store at ${this.path} is closed; ` +
          'requests after close() cannot be served.',
      );
    }
    return new StoreUnavailableError(
      `The SQLite message store at ${this.path} is not open yet; await open() first.`,
    );
  }

  private readFailedError(action: string, error: unknown): StoreUnavailableError {
    return new StoreUnavailableError(
      `Failed to ${action} from the SQLite message store at ${this.path}: ` +
        `${describeError(error)}; retry the request`,
      { cause: error },
    );
  }
}

function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<InsertParameters>(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, sender_id, client_message_id) DO NOTHING`,
    ),
    selectByKey: db.prepare<[string, string, string], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE room = ? AND sender_id = ? AND client_message_id = ?`,
    ),
    selectHead: db
      .prepare<[string], number>(
        'SELECT seq FROM events WHERE room = ? ORDER BY seq DESC LIMIT 1',
      )
      .pluck(),
    selectAfter: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
    ),
    selectBetween: db.prepare<[string, number, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room = ? AND seq > ? AND seq < ?
       ORDER BY seq ASC LIMIT ?`,
    ),
    selectBefore: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    selectNewest: db.prepare<[string, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE room = ? ORDER BY seq DESC LIMIT ?`,
    ),
    selectEpoch: db.prepare<[], string>(`SELECT value FROM meta WHERE key = 'epoch'`).pluck(),
  };
}

/** Encodes the kind's payload for the `body` column. */
function encodeBody(request: AppendRequest): string {
  return JSON.stringify({ content: request.content });
}

function buildEvent(request: AppendRequest, seq: number, id: string, timestamp: number): RoomEvent {
  return {
    room: request.room,
    seq,
    id,
    kind: request.kind,
    sender: { id: request.sender.id, name: request.sender.name },
    timestamp,
    clientMessageId: request.clientMessageId,
    content: request.content,
  };
}

function toRoomEvent(row: EventRow): RoomEvent {
  // NOTE: 'message' is the only kind so far. A row of a kind added by a newer server fails here
  // until this function learns that kind's body.
  if (row.kind !== 'message') {
    throw new Error(
      `Event ${row.id} has kind ${JSON.stringify(row.kind)}, which this server cannot read; ` +
        'upgrade the server.',
    );
  }

  const body = JSON.parse(row.body) as { content: string };
  return {
    room: row.room,
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    sender: { id: row.sender_id, name: row.sender_name },
    timestamp: row.created_at,
    clientMessageId: row.client_message_id,
    content: body.content,
  };
}

function isFilePath(path: string): boolean {
  return path !== ':memory:' && path !== '' && !path.startsWith('file:');
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
