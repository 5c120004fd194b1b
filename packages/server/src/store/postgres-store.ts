import { randomUUID } from 'node:crypto';

import type { RoomEvent } from '@confab/protocol';
import pg from 'pg';
import { pino, type Logger } from 'pino';

import {
  StoreUnavailableError,
  type AppendRequest,
  type AppendResult,
  type MessageStore,
  type RangeQuery,
  type RangeResult,
} from './message-store.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { isPostgresUnavailable } from './postgres-unavailable.js';

export interface PostgresStoreOptions {
  /** A libpq-style connection string, such as `postgres://confab@127.0.0.1:5432/confab`. */
  connectionString: string;
  /** Schema of the log's tables, created at open. Tests use one schema per run. */
  schema?: string;
  logger?: Logger;
  /** Most connections the pool opens. */
  poolSize?: number;
  /** How long to wait for a new connection before the request fails as unavailable. */
  connectTimeoutMs?: number;
  /** How long to wait for a query's reply before the request fails as unavailable. */
  queryTimeoutMs?: number;
  /** Most appends written by one statement. */
  maxBatchSize?: number;
}

export const DEFAULT_POSTGRES_SCHEMA = 'confab';
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_QUERY_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BATCH_SIZE = 256;
const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

interface PendingAppend {
  request: AppendRequest;
  id: string;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

interface AppendRow {
  out_ord: number;
  out_seq: string;
  out_id: string;
  out_kind: string;
  out_sender_name: string;
  out_content: Buffer;
  out_created_at_ms: string;
  out_duplicate: boolean;
}

interface EventRow {
  seq: string;
  id: string;
  kind: string;
  sender_id: string;
  sender_name: string;
  client_message_id: string;
  content: Buffer;
  created_at_ms: string;
}

/**
 * The room log in PostgreSQL, shared by every node of a cluster.
 *
 * Appends that arrive in the same tick are written by one statement in one transaction (group
 * commit), and each resolves only after that transaction has committed. A room's seq is taken from
 * its `rooms.head_seq` row inside the transaction that stores the event, with the row locked, so
 * writers on different nodes serialize per room and a rolled-back append leaves no gap.
 */
export class PostgresStore implements MessageStore {
  onBatchCommitted?: (size: number, durationMs: number) => void;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly logger: Logger;
  private readonly maxBatchSize: number;
  private readonly queue: PendingAppend[] = [];
  private flushScheduled = false;
  private flushing = false;
  private idleWaiters: Array<() => void> = [];
  private epochValue: string | undefined;
  private closed = false;
  private reachable = true;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
    if (!SCHEMA_NAME_PATTERN.test(schema)) {
      throw new TypeError(
        `invalid PostgreSQL schema name ${JSON.stringify(schema)}: use 1 to 63 characters of a-z, 0-9 and _, not starting with a digit`,
      );
    }

    this.schema = `"${schema}"`;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'confab',
    });

    // An idle pooled connection that PostgreSQL closes (restart, pg_terminate_backend) is reported
    // here; without a listener the process would exit. The pool drops that connection by itself.
    this.pool.on('error', (error) => {
      this.logger.warn({ err: error }, 'idle PostgreSQL connection failed; the pool drops it');
    });
  }

  get epoch(): string {
    if (this.epochValue === undefined) {
      throw new Error('PostgresStore.epoch was read before open() resolved; await open() first');
    }
    return this.epochValue;
  }

  async open(): Promise<void> {
    await this.run('open', async () => {
      await this.migrate();
      const result = await this.pool.query<{ value: string }>(
        `SELECT value FROM ${this.schema}.meta WHERE key = 'epoch'`,
      );
      const row = result.rows[0];
      if (row === undefined) {
        throw new Error(`PostgreSQL schema ${this.schema} has no epoch in its meta table; restore it or use a new schema`);
      }
      this.epochValue = row.value;
    });
    this.logger.info({ schema: this.schema, epoch: this.epochValue }, 'PostgreSQL store open');
  }

  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) {
      return Promise.reject(new StoreUnavailableError('the PostgreSQL store is closed; the server is shutting down'));
    }

    // PostgreSQL text cannot hold U+0000. Content is stored as bytes, but these fields are text,
    // and one bad item would otherwise fail the whole batch it shares with other rooms' appends.
    for (const [field, value] of [
      ['room', request.room],
      ['sender id', request.sender.id],
      ['sender name', request.sender.name],
      ['clientMessageId', request.clientMessageId],
    ] as const) {
      if (value.includes('\u0000')) {
        return Promise.reject(new TypeError(`${field} contains U+0000, which PostgreSQL cannot store; remove it`));
      }
    }

    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, id: randomUUID(), resolve, reject });
      this.scheduleFlush();
    });
  }

  async range(query: RangeQuery): Promise<RangeResult> {
    const ascending = query.after !== undefined;
    const conditions = ['room = $1'];
    const values: unknown[] = [query.room];
    if (query.after !== undefined) {
      values.push(query.after);
      conditions.push(`seq > $${values.length}`);
    }
    if (query.before !== undefined) {
      values.push(query.before);
      conditions.push(`seq < $${values.length}`);
    }
    // One extra row shows whether more events lie beyond the page.
    values.push(query.limit + 1);

    const rows = await this.run('range', async () => {
      const result = await this.pool.query<EventRow>(
        `SELECT seq, id, kind, sender_id, sender_name, client_message_id, content, created_at_ms
           FROM ${this.schema}.events
          WHERE ${conditions.join(' AND ')}
          ORDER BY seq ${ascending ? 'ASC' : 'DESC'}
          LIMIT $${values.length}`,
        values,
      );
      return result.rows;
    });

    const hasMore = rows.length > query.limit;
    const page = rows.slice(0, query.limit).map((row) => toRoomEvent(query.room, row));
    if (!ascending) {
      page.reverse();
    }
    return { events: page, hasMore };
  }

  async headSeq(room: string): Promise<number> {
    return this.run('headSeq', async () => {
      const result = await this.pool.query<{ head_seq: string }>(
        `SELECT head_seq FROM ${this.schema}.rooms WHERE room = $1`,
        [room],
      );
      const row = result.rows[0];
      return row === undefined ? 0 : Number(row.head_seq);
    });
  }

  async check(): Promise<void> {
    await this.run('check', async () => {
      await this.pool.query('SELECT 1');
    });
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;

    if (this.flushing || this.flushScheduled || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await this.pool.end();
    this.logger.info('PostgreSQL store closed');
  }

  /** Creates the schema or brings it up to date. Nodes that start together take turns. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let failure: unknown;
    try {
      await client.query('BEGIN');
      // The lock lives until COMMIT; it also covers CREATE SCHEMA, which races on its own.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`confab.migrate.${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.schema}.schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );

      const applied = await client.query<{ version: number }>(`SELECT version FROM ${this.schema}.schema_migrations`);
      const appliedVersions = new Set(applied.rows.map((row) => row.version));
      for (const migration of POSTGRES_MIGRATIONS) {
        if (appliedVersions.has(migration.version)) {
          continue;
        }
        await client.query(migration.sql(this.schema));
        await client.query(`INSERT INTO ${this.schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        this.logger.info({ schema: this.schema, version: migration.version, name: migration.name }, 'applied migration');
      }

      const known = POSTGRES_MIGRATIONS.length;
      const newest = Math.max(0, ...appliedVersions);
      if (newest > known) {
        this.logger.warn(
          { schema: this.schema, newest, known },
          'the PostgreSQL schema is newer than this server version; upgrade this node',
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A connection that failed mid-transaction is destroyed rather than returned to the pool.
      client.release(failure instanceof Error ? failure : undefined);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) {
      return;
    }
    this.flushScheduled = true;
    // Waiting one turn of the event loop lets every append of the current tick join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  // One batch is written at a time; appends that arrive meanwhile form the next one. This keeps a
  // node's appends to one room in the order they were requested.
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatchSize);
      await this.writeBatch(batch);
    }
    this.flushing = false;

    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }

  /** Writes a batch and settles each of its appends, so that the returned promise never rejects. */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    // A stable sort by room: concurrent batches then lock room rows in one order (no deadlock),
    // and appends to one room keep their order.
    const items = [...batch].sort((a, b) => compareText(a.request.room, b.request.room));

    let rows: AppendRow[];
    try {
      const startedAtMs = performance.now();
      const result = await this.pool.query<AppendRow>(
        `SELECT * FROM ${this.schema}.append_events(
           $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[])`,
        [
          items.map((item) => item.request.room),
          items.map((item) => item.request.kind),
          items.map((item) => item.request.sender.id),
          items.map((item) => item.request.sender.name),
          items.map((item) => item.request.clientMessageId),
          items.map((item) => Buffer.from(item.request.content, 'utf8')),
          items.map((item) => item.id),
        ],
      );
      rows = result.rows;
      this.onBatchCommitted?.(items.length, performance.now() - startedAtMs);
      this.markReachable();
    } catch (error) {
      if (isPostgresUnavailable(error)) {
        const unavailable = this.toUnavailable('append', error);
        for (const item of items) {
          item.reject(unavailable);
        }
        return;
      }

      // A fault in one item fails the whole statement. Write the items one by one so that only
      // the faulty append fails.
      if (items.length > 1) {
        for (const item of items) {
          await this.writeBatch([item]);
        }
        return;
      }
      this.logger.error({ err: error, room: items[0]?.request.room }, 'append failed');
      for (const item of items) {
        item.reject(error);
      }
      return;
    }

    for (const row of rows) {
      const item = items[row.out_ord - 1];
      if (item === undefined) {
        continue;
      }
      const event: RoomEvent = {
        room: item.request.room,
        seq: Number(row.out_seq),
        id: row.out_id,
        kind: row.out_kind as RoomEvent['kind'],
        sender: { id: item.request.sender.id, name: row.out_sender_name },
        timestamp: Number(row.out_created_at_ms),
        clientMessageId: item.request.clientMessageId,
        content: row.out_content.toString('utf8'),
      };
      item.resolve({ event, duplicate: row.out_duplicate });
    }
  }

  /** Runs a query step, turning a lost connection into `StoreUnavailableError`. */
  private async run<T>(operation: string, step: () => Promise<T>): Promise<T> {
    try {
      const value = await step();
      this.markReachable();
      return value;
    } catch (error) {
      if (isPostgresUnavailable(error)) {
        throw this.toUnavailable(operation, error);
      }
      throw error;
    }
  }

  private toUnavailable(operation: string, error: unknown): StoreUnavailableError {
    if (this.reachable) {
      this.reachable = false;
      this.logger.error({ err: error, operation }, 'PostgreSQL is unavailable; requests fail until it returns');
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`PostgreSQL is unavailable (${detail}); retry later`, { cause: error });
  }

  private markReachable(): void {
    if (!this.reachable) {
      this.reachable = true;
      this.logger.info('PostgreSQL is reachable again');
    }
  }
}

function toRoomEvent(room: string, row: EventRow): RoomEvent {
  return {
    room,
    seq: Number(row.seq),
    id: row.id,
    kind: row.kind as RoomEvent['kind'],
    sender: { id: row.sender_id, name: row.sender_name },
    timestamp: Number(row.created_at_ms),
    clientMessageId: row.client_message_id,
    content: row.content.toString('utf8'),
  };
}

function compareText(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}
