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
import {
  configureConnection,
  EVENT_COLUMNS,
  SqliteBatchWriter,
  type BatchAppend,
  type EventRow,
} from './sqlite-batch-writer.js';
import { migrateSqliteSchema } from './sqlite-migrations.js';
import { CheckpointThread, SameThreadSink, WriterThread, type BatchSink } from './sqlite-writer-thread.js';

/** How long a write waits for another connection's write lock before it fails, by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * The minimum time between the starts of two batches on a database file, by default, in
 * milliseconds. A commit of five rows in five rooms wrote about 68 KB to the WAL and cost about
 * 300 µs of CPU with synchronous=full on the benchmark machine. Without a gap, light load commits
 * every append alone and pays that per message. With it, commits stay under 500 a second, and an
 * append waits at most this long more.
 */
export const DEFAULT_BATCH_INTERVAL_MS = 2;

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
  /**
   * Minimum time between the starts of two batches, in milliseconds. Defaults to
   * `DEFAULT_BATCH_INTERVAL_MS` for a file and 0 for an in-memory database, which does not sync.
   */
  batchIntervalMs?: number;
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
}

/**
 * A `MessageStore` on one SQLite file. Appends are written in batches, one transaction each (group
 * commit), so a burst of messages pays for one sync, not one per message. A database file is
 * written by a worker thread with a connection of its own, one batch at a time. The appends that
 * arrive while a batch commits form the next one, and the event loop waits for no sync and no
 * checkpoint. Reads use the main thread's connection, which WAL mode lets run beside the writer.
 * An in-memory database, which only one connection can see, is written in the main thread.
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
  private readonly batchIntervalMs: number;
  private lastBatchStartedAtMs = Number.NEGATIVE_INFINITY;

  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  private db: Database.Database | undefined;
  private statements: ReturnType<typeof prepareStatements> | undefined;
  private sink: BatchSink | undefined;
  private checkpointer: CheckpointThread | undefined;
  private epochValue: string | undefined;

  private queue: PendingAppend[] = [];
  /** The batch being committed; the next one waits for it. */
  private writing: Promise<void> | undefined;
  private flushHandle: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private readonly flushCallback = (): void => {
    this.flushHandle = undefined;
    void this.flushBatch();
  };

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
    const batchIntervalMs = options.batchIntervalMs ?? (isFilePath(options.path) ? DEFAULT_BATCH_INTERVAL_MS : 0);
    if (!Number.isFinite(batchIntervalMs) || batchIntervalMs < 0) {
      throw new RangeError(`Invalid batchIntervalMs ${batchIntervalMs}; use a number >= 0.`);
    }
    this.batchIntervalMs = batchIntervalMs;
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
      const journalMode = configureConnection(db, this.busyTimeoutMs, this.synchronous);
      if (journalMode !== 'wal' && isFilePath(this.path)) {
        this.logger.warn(
          { path: this.path, journalMode },
          'SQLite did not switch the database to WAL mode; writes will block readers',
        );
      }
      const migration = migrateSqliteSchema(db);
      const statements = prepareStatements(db);
      const epoch = statements.selectEpoch.get();
      if (epoch === undefined) {
        throw new Error(
          `the meta table has no epoch row, so the file is damaged; restore it from a backup`,
        );
      }

      if (isFilePath(this.path)) {
        const settings = { path: this.path, synchronous: this.synchronous, busyTimeoutMs: this.busyTimeoutMs };
        const thread = new WriterThread({ ...settings, role: 'writer' }, this.logger);
        await thread.start();
        this.sink = thread;
        const checkpointer = new CheckpointThread(settings, this.logger);
        await checkpointer.start();
        this.checkpointer = checkpointer;
      } else {
        this.sink = new SameThreadSink(new SqliteBatchWriter(db));
      }
      this.db = db;
      this.statements = statements;
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
      await this.sink?.close().catch(() => {});
      this.sink = undefined;
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
      this.queue.push({ request, resolve, reject });
      this.scheduleFlush();
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
    this.cancelScheduledFlush();
    while (this.writing !== undefined || this.queue.length > 0) {
      await (this.writing ?? this.flushBatch());
    }
    await this.sink?.close();
    this.sink = undefined;
    await this.checkpointer?.close();
    this.checkpointer = undefined;

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
  }

  /**
   * Starts a batch at the end of this loop turn, or once the batch interval since the last start
   * has passed, unless one is committing: then the next batch starts when it is done. setImmediate,
   * not a microtask: it runs after the I/O callbacks of the turn, so the sends of every socket that
   * was readable in it join the same batch.
   */
  private scheduleFlush(): void {
    if (this.writing !== undefined || this.flushHandle !== undefined) {
      return;
    }
    const waitMs = this.lastBatchStartedAtMs + this.batchIntervalMs - performance.now();
    this.flushHandle = waitMs >= 1 ? setTimeout(this.flushCallback, waitMs) : setImmediate(this.flushCallback);
  }

  private cancelScheduledFlush(): void {
    if (this.flushHandle === undefined) {
      return;
    }
    if ('refresh' in this.flushHandle) {
      clearTimeout(this.flushHandle);
    } else {
      clearImmediate(this.flushHandle);
    }
    this.flushHandle = undefined;
  }

  /** Takes up to `maxBatchSize` queued appends, in call order, and commits them together. */
  private flushBatch(): Promise<void> {
    if (this.writing !== undefined || this.queue.length === 0) {
      return this.writing ?? Promise.resolve();
    }

    let batch: PendingAppend[];
    if (this.queue.length <= this.maxBatchSize) {
      batch = this.queue;
      this.queue = [];
    } else {
      batch = this.queue.splice(0, this.maxBatchSize);
    }

    this.lastBatchStartedAtMs = performance.now();
    this.writing = this.commit(batch).finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0 && this.state !== 'closed') {
        this.scheduleFlush();
      }
    });
    return this.writing;
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    const timestamp = Date.now();
    let written;
    try {
      if (this.sink === undefined) {
        throw new Error('the database connection is closed');
      }
      written = await this.sink.write(batch.map(({ request }) => toBatchAppend(request)), timestamp);
    } catch (error) {
      this.stats.transactionsFailed++;
      this.logBatchFailure(error, batch.length);
      const failure = new StoreUnavailableError(
        `Failed to commit ${batch.length} appends to the SQLite message store at ${this.path}: ` +
          `${describeError(error)}; retry the requests`,
        { cause: error },
      );
      for (const pending of batch) {
        pending.reject(failure);
      }
      return;
    }

    this.stats.transactionsCommitted++;
    this.onBatchCommitted?.(batch.length, written.durationMs);
    const { outcomes } = written;
    for (let index = 0; index < batch.length; index++) {
      const pending = batch[index] as PendingAppend;
      const outcome = outcomes[index];
      if (outcome === undefined) {
        pending.reject(new StoreUnavailableError('the SQLite writer returned fewer outcomes than appends'));
      } else if ('duplicateOf' in outcome) {
        pending.resolve({ event: toRoomEvent(outcome.duplicateOf), duplicate: true });
      } else {
        this.stats.eventsAppended++;
        pending.resolve({
          event: buildEvent(pending.request, outcome.seq, outcome.id, timestamp),
          duplicate: false,
        });
      }
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

/** Converts an append to the writer's form, encoding the kind's payload for the `body` column. */
function toBatchAppend(request: AppendRequest): BatchAppend {
  return {
    room: request.room,
    kind: request.kind,
    senderId: request.sender.id,
    senderName: request.sender.name,
    clientMessageId: request.clientMessageId,
    body: JSON.stringify({ content: request.content }),
  };
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
