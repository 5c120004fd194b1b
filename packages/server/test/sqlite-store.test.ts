import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';

import {
  StoreUnavailableError,
  type AppendRequest,
  type MessageStore,
} from '../src/store/message-store.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../src/store/sqlite-migrations.js';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite-store.js';
import { describeStoreConformance } from './support/store-conformance.js';

const TEST_TIMEOUT_MS = 30_000;
const CRASH_TEST_TIMEOUT_MS = 60_000;
// The crash test kills the child once this many appends were acknowledged.
const ACKS_BEFORE_KILL = 3_000;

const silentLogger = pino({ level: 'silent' });
const serverPackageDirectory = fileURLToPath(new URL('..', import.meta.url));
const appendChildPath = fileURLToPath(new URL('./support/sqlite-append-child.ts', import.meta.url));

// Directories made by `temporaryDirectory`, removed after each test.
const temporaryDirectories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'confab-sqlite-store-'));
  temporaryDirectories.push(directory);
  return directory;
}

async function removeTemporaryDirectories(): Promise<void> {
  const directories = temporaryDirectories.splice(0);
  for (const directory of directories) {
    await rm(directory, { recursive: true, force: true });
  }
}

const storePaths = new WeakMap<MessageStore, string>();

async function openStore(
  path: string,
  options: Partial<SqliteStoreOptions> = {},
): Promise<SqliteStore> {
  const store = new SqliteStore({ path, synchronous: 'full', logger: silentLogger, ...options });
  await store.open();
  storePaths.set(store, path);
  return store;
}

describeStoreConformance(
  'SqliteStore on a file',
  async () => openStore(join(await temporaryDirectory(), 'confab.db')),
  removeTemporaryDirectories,
  {
    reopen: async (store) => {
      const path = storePaths.get(store);
      assert.ok(path, 'the store was not created by openStore');
      return openStore(path);
    },
  },
);

describeStoreConformance('SqliteStore in memory', async () => openStore(':memory:'));

describe('SqliteStore', () => {
  // Stores and extra connections of the running test, closed after it.
  const stores: SqliteStore[] = [];
  const connections: Database.Database[] = [];

  async function newStore(
    path: string,
    options: Partial<SqliteStoreOptions> = {},
  ): Promise<SqliteStore> {
    const store = await openStore(path, options);
    stores.push(store);
    return store;
  }

  function connect(path: string): Database.Database {
    const connection = new Database(path);
    connections.push(connection);
    return connection;
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) {
      await store.close();
    }
    for (const connection of connections.splice(0)) {
      connection.close();
    }
    await removeTemporaryDirectories();
  });

  test('open creates the parent directory', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'nested', 'deeper', 'confab.db');

    const store = await newStore(path);
    await store.append(message('room-1'));

    assert.ok(existsSync(path), `${path} was not created`);
  });

  test('database is in WAL mode at the latest schema', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    await newStore(path);

    const connection = connect(path);

    assert.equal(connection.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(connection.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
  });

  test('reopen keeps data and epoch', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const first = await newStore(path);
    const appended = await first.append(message('room-1', { content: 'kept' }));
    const epoch = first.epoch;
    await first.close();

    const second = await newStore(path);

    assert.equal(second.epoch, epoch);
    const page = await second.range({ room: 'room-1', limit: 10 });
    assert.deepEqual(page.events, [appended.event]);
  });

  test('new database gets a new epoch', { timeout: TEST_TIMEOUT_MS }, async () => {
    const directory = await temporaryDirectory();

    const first = await newStore(join(directory, 'first.db'));
    const second = await newStore(join(directory, 'second.db'));

    assert.notEqual(first.epoch, second.epoch);
  });

  test('appends of one tick share one transaction', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(join(await temporaryDirectory(), 'confab.db'));
    const committedBefore = store.stats.transactionsCommitted;

    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.append(message('room-1'))),
    );

    assert.equal(results.length, 200);
    assert.equal(store.stats.transactionsCommitted - committedBefore, 1);
    assert.equal(store.stats.eventsAppended, 200);
  });

  test('batch size cap splits a burst in order', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const store = await newStore(path, { maxBatchSize: 50 });

    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.append(message('room-1'))),
    );

    assert.equal(store.stats.transactionsCommitted, 4);
    assert.deepEqual(
      results.map((result) => result.event.seq),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  test('batch interval gathers later appends', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(join(await temporaryDirectory(), 'confab.db'), { batchIntervalMs: 200 });
    await store.append(message('room-1'));
    const committedBefore = store.stats.transactionsCommitted;

    // Three appends in three loop turns: without the interval the first would commit alone.
    const pending = [store.append(message('room-1'))];
    await new Promise((resolve) => setImmediate(resolve));
    pending.push(store.append(message('room-2')));
    await new Promise((resolve) => setImmediate(resolve));
    pending.push(store.append(message('room-1')));
    const results = await Promise.all(pending);

    assert.equal(store.stats.transactionsCommitted - committedBefore, 1);
    assert.deepEqual(
      results.map((result) => result.event.seq),
      [2, 1, 3],
    );
  });

  test('writer thread restarts after it dies', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(join(await temporaryDirectory(), 'confab.db'));
    const first = await store.append(message('room-1'));
    // Fault injection: the test reaches into the store for its writer thread and stops it.
    const sink = (store as unknown as { sink: { worker: { terminate(): Promise<number> } } }).sink;

    const request = message('room-1');
    const inFlight = store.append(request);
    await sink.worker.terminate();
    const outcome = await inFlight.then(
      (result) => result,
      (error: unknown) => error,
    );
    const retried = await store.append(request);
    const next = await store.append(message('room-1'));

    assert.equal(first.event.seq, 1);
    if (outcome instanceof Error) {
      assert.equal(outcome.name, 'StoreUnavailableError');
    }
    assert.equal(retried.event.seq, 2, 'the retry is stored once, right after the first');
    assert.equal(next.event.seq, 3);
  });

  test('duplicates are not counted as appended', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(':memory:');

    await Promise.all([
      store.append(message('room-1', { clientMessageId: 'c-1' })),
      store.append(message('room-1', { clientMessageId: 'c-1' })),
    ]);

    assert.equal(store.stats.eventsAppended, 1);
  });

  test('busy database fails the batch, then recovers', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const { logger, records } = captureLogs();
    const store = await newStore(path, { busyTimeoutMs: 50, logger });
    const blocker = connect(path);
    blocker.exec('BEGIN IMMEDIATE');

    const appends = [
      store.append(message('room-1')),
      store.append(message('room-1')),
      store.append(message('room-2')),
    ];
    const outcomes = await Promise.allSettled(appends);
    blocker.exec('ROLLBACK');

    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof StoreUnavailableError, String(outcome.reason));
    }
    assert.equal(store.stats.transactionsFailed, 1);
    const errorLogs = records.filter((record) => record.level === 50);
    assert.equal(errorLogs.length, 1, 'the failed batch must be logged once');
    assert.equal(errorLogs[0]?.batchSize, 3);
    await store.check();
    const next = await store.append(message('room-1'));
    assert.equal(next.event.seq, 1, 'the failed batch must not take seqs');
  });

  test('failing row rolls back its whole batch', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const store = await newStore(path);
    const saboteur = connect(path);
    saboteur.exec(`
      CREATE TRIGGER fail_boom BEFORE INSERT ON events WHEN NEW.client_message_id = 'c-boom'
      BEGIN SELECT RAISE(ABORT, 'injected failure for c-boom'); END;
    `);

    const outcomes = await Promise.allSettled([
      store.append(message('room-1', { clientMessageId: 'c-a' })),
      store.append(message('room-2', { clientMessageId: 'c-b' })),
      store.append(message('room-1', { clientMessageId: 'c-boom' })),
      store.append(message('room-1', { clientMessageId: 'c-c' })),
    ]);
    saboteur.exec('DROP TRIGGER fail_boom');

    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof StoreUnavailableError, String(outcome.reason));
      assert.match(outcome.reason.message, /injected failure for c-boom/);
    }
    assert.equal(await store.headSeq('room-1'), 0);
    assert.equal(await store.headSeq('room-2'), 0);
    const retried = await store.append(message('room-1', { clientMessageId: 'c-a' }));
    assert.equal(retried.duplicate, false, 'c-a must not have been committed');
    assert.equal(retried.event.seq, 1);
  });

  test('two connections share one gap-free log', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const first = await newStore(path);
    const second = await newStore(path);

    const appends = [];
    for (let i = 0; i < 100; i++) {
      appends.push(first.append(message('room-1')), second.append(message('room-1')));
    }
    const results = await Promise.all(appends);

    const seqs = results.map((result) => result.event.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal(first.epoch, second.epoch);
  });

  test('version 1 database migrates with its events', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const old = connect(path);
    old.pragma('journal_mode = WAL');
    SQLITE_MIGRATIONS[0]?.(old);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO events (room, seq, id, kind, sender_id, sender_name, client_message_id, body, created_at)
         VALUES ('room-1', 1, 'event-1', 'message', 'user-alice', 'Alice', 'key-1', '{"content":"kept"}', 1000)`,
      )
      .run();
    old.close();

    const store = await newStore(path);
    const page = await store.range({ room: 'room-1', limit: 10 });
    const again = await store.append(message('room-1', { clientMessageId: 'key-1' }));
    const next = await store.append(message('room-1'));

    assert.deepEqual(
      page.events.map((event) => [event.seq, event.id, event.content]),
      [[1, 'event-1', 'kept']],
    );
    assert.equal(again.duplicate, true);
    assert.equal(again.event.id, 'event-1');
    assert.equal(next.event.seq, 2);
    const check = connect(path);
    assert.equal(check.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
    const indexes = check.prepare('SELECT name FROM pragma_index_list(?)').pluck().all('events');
    assert.deepEqual([...indexes].sort(), ['events_idempotency_key', 'sqlite_autoindex_events_1']);
  });

  test('newer schema version is rejected', { timeout: TEST_TIMEOUT_MS }, async () => {
    const path = join(await temporaryDirectory(), 'confab.db');
    const creator = await newStore(path);
    await creator.close();
    connect(path).pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 98}`);

    const store = new SqliteStore({ path, synchronous: 'full', logger: silentLogger });

    await assert.rejects(store.open(), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 98}`));
      return true;
    });
  });

  test('every request after close rejects', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(join(await temporaryDirectory(), 'confab.db'));
    await store.append(message('room-1'));

    await store.close();
    await store.close();

    await assert.rejects(store.append(message('room-1')), StoreUnavailableError);
    await assert.rejects(store.range({ room: 'room-1', limit: 10 }), StoreUnavailableError);
    await assert.rejects(store.headSeq('room-1'), StoreUnavailableError);
    await assert.rejects(store.check(), StoreUnavailableError);
  });

  test('requests before open reject', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = new SqliteStore({ path: ':memory:', synchronous: 'full', logger: silentLogger });

    await assert.rejects(store.append(message('room-1')), StoreUnavailableError);
    await assert.rejects(store.check(), StoreUnavailableError);
    assert.throws(() => store.epoch, /before open/);
  });

  test('invalid options throw', () => {
    assert.throws(
      () =>
        new SqliteStore({
          path: ':memory:',
          synchronous: 'off' as 'full',
          logger: silentLogger,
        }),
      TypeError,
    );
    assert.throws(
      () =>
        new SqliteStore({
          path: ':memory:',
          synchronous: 'full',
          logger: silentLogger,
          maxBatchSize: 0,
        }),
      RangeError,
    );
    assert.throws(
      () =>
        new SqliteStore({
          path: ':memory:',
          synchronous: 'full',
          logger: silentLogger,
          batchIntervalMs: -1,
        }),
      RangeError,
    );
  });

  test('range rejects an invalid limit', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await newStore(':memory:');

    await assert.rejects(store.range({ room: 'room-1', limit: 0 }), RangeError);
    await assert.rejects(store.range({ room: 'room-1', limit: 1.5 }), RangeError);
  });

  for (const synchronous of ['full', 'normal'] as const) {
    test(
      `acknowledged appends survive SIGKILL (${synchronous})`,
      { timeout: CRASH_TEST_TIMEOUT_MS },
      async () => {
        const path = join(await temporaryDirectory(), 'confab.db');

        const { acknowledged, signal, stderr } = await runChildUntilKilled(path, synchronous);

        assert.equal(signal, 'SIGKILL', `the child exited by itself: ${stderr}`);
        assert.ok(
          acknowledged.length >= ACKS_BEFORE_KILL,
          `only ${acknowledged.length} acknowledgements: ${stderr}`,
        );
        const store = await newStore(path, { synchronous });
        const stored = new Map<string, { room: string; seq: number }>();
        for (const room of ['room-even', 'room-odd']) {
          const head = await store.headSeq(room);
          const page = await store.range({ room, after: 0, limit: head + 1 });
          assert.deepEqual(
            page.events.map((event) => event.seq),
            Array.from({ length: head }, (_, i) => i + 1),
            `seqs of ${room} must be gap-free`,
          );
          for (const event of page.events) {
            stored.set(event.clientMessageId, { room, seq: event.seq });
          }
        }
        for (const ack of acknowledged) {
          assert.deepEqual(
            stored.get(ack.clientMessageId),
            { room: ack.room, seq: ack.seq },
            `acknowledged ${ack.clientMessageId} is missing or differs`,
          );
        }
      },
    );
  }
});

interface Acknowledgement {
  clientMessageId: string;
  room: string;
  seq: number;
}

/** Runs the append child, kills it with SIGKILL after enough acknowledgements, reads every line. */
async function runChildUntilKilled(
  path: string,
  synchronous: 'full' | 'normal',
): Promise<{ acknowledged: Acknowledgement[]; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', appendChildPath, path, synchronous], {
    cwd: serverPackageDirectory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acknowledged: Acknowledgement[] = [];
  let pending = '';
  let stderr = '';

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    // The last piece is an incomplete line, or '' after a newline.
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [clientMessageId, room, seq] = line.split(' ');
      assert.ok(clientMessageId, `line from the child has no clientMessageId: ${line}`);
      assert.ok(room, `line from the child has no room: ${line}`);
      assert.ok(seq, `line from the child has no seq: ${line}`);
      acknowledged.push({ clientMessageId, room, seq: Number(seq) });
    }
    if (acknowledged.length >= ACKS_BEFORE_KILL && !child.killed) {
      child.kill('SIGKILL');
    }
  });

  const [, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { acknowledged, signal, stderr };
}

function captureLogs(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        records.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, records };
}

function message(room: string, overrides: Partial<AppendRequest> = {}): AppendRequest {
  return {
    room,
    kind: 'message',
    sender: { id: 'user-alice', name: 'Alice' },
    clientMessageId: randomUUID(),
    content: 'hello',
    ...overrides,
  };
}
