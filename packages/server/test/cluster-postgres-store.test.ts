import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';

import pg from 'pg';
import { pino } from 'pino';

import { StoreUnavailableError, type AppendRequest, type MessageStore } from '../src/store/message-store.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-migrations.js';
import { PostgresStore } from '../src/store/postgres-store.js';
import { clusterSkipReason, dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from './support/cluster-backends.js';
import { describeStoreConformance } from './support/store-conformance.js';

const TEST_TIMEOUT_MS = 60_000;
const skip = await clusterSkipReason({ postgres: true });
const schema = uniqueSchemaName();
const silentLogger = pino({ level: 'silent' });

async function openStore(options: { schema?: string; connectionString?: string; queryTimeoutMs?: number } = {}): Promise<PostgresStore> {
  const store = new PostgresStore({
    connectionString: options.connectionString ?? TEST_DATABASE_URL,
    schema: options.schema ?? schema,
    logger: silentLogger,
    connectTimeoutMs: 2000,
    ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
  });
  await store.open();
  return store;
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

if (skip === false) {
  describeStoreConformance('PostgresStore', () => openStore(), undefined, {
    reopen: () => openStore(),
  });
}

describe('PostgresStore', { skip }, () => {
  const extraSchemas: string[] = [];

  after(async () => {
    for (const name of [schema, ...extraSchemas]) {
      await dropSchema(name);
    }
  });

  test('nodes starting at once migrate once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const fresh = uniqueSchemaName();
    extraSchemas.push(fresh);

    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ schema: fresh })));
    try {
      const epochs = new Set(stores.map((store) => store.epoch));
      assert.equal(epochs.size, 1, 'every node reads the same epoch');

      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      const applied = await client.query<{ version: number }>(`SELECT version FROM "${fresh}".schema_migrations ORDER BY version`);
      await client.end();
      assert.deepEqual(
        applied.rows.map((row) => row.version),
        POSTGRES_MIGRATIONS.map((migration) => migration.version),
      );
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('concurrent writers on separate pools stay gap-free', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Three stores stand for three nodes: each has its own pool and its own group commit.
    const stores = await Promise.all([openStore(), openStore(), openStore()]);
    const rooms = ['a', 'b', 'c'].map((name) => `${name}-${randomUUID()}`);
    try {
      const appends = [];
      for (let i = 0; i < 60; i++) {
        for (const [index, store] of stores.entries()) {
          appends.push(store.append(message(rooms[(i + index) % rooms.length] ?? 'x', { sender: { id: `user-${index}`, name: `User ${index}` } })));
        }
      }
      const results = await Promise.all(appends);

      for (const room of rooms) {
        const seqs = results
          .filter((result) => result.event.room === room)
          .map((result) => result.event.seq)
          .sort((a, b) => a - b);
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => i + 1),
          `room ${room} seqs`,
        );
        assert.equal(await stores[0]?.headSeq(room), seqs.length);
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('concurrent duplicates from two nodes store once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const first = await openStore();
    const second = await openStore();
    const room = `dup-${randomUUID()}`;
    try {
      const request = message(room, { clientMessageId: 'same-id' });
      const results = await Promise.all([first.append(request), second.append(request), first.append(request), second.append(request)]);

      assert.equal(results.filter((result) => !result.duplicate).length, 1);
      assert.equal(new Set(results.map((result) => result.event.id)).size, 1);
      assert.deepEqual(
        results.map((result) => result.event.seq),
        [1, 1, 1, 1],
      );
      assert.equal(await first.headSeq(room), 1);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('terminated connections fail as unavailable, then recover', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await openStore();
    const room = `term-${randomUUID()}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await store.append(message(room));

      // Hold the room row so the next append waits inside PostgreSQL, then end that backend.
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".rooms WHERE room = $1 FOR UPDATE`, [room]);
      // The assertion is attached at once, so that the rejection is never unhandled.
      const rejected = assert.rejects(store.append(message(room)), StoreUnavailableError);
      const backend = await waitForBackendWaiting(admin);
      await admin.query('SELECT pg_terminate_backend($1)', [backend]);
      await admin.query('ROLLBACK');

      await rejected;

      const next = await store.append(message(room));
      assert.equal(next.event.seq, 2, 'the aborted append left no gap');
      await store.check();
    } finally {
      await admin.end();
      await store.close();
    }
  });

  test('unreachable server fails as unavailable', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Port 1 on loopback refuses connections.
    const store = new PostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema, logger: silentLogger });
    await assert.rejects(store.open(), StoreUnavailableError);
    await assert.rejects(store.check(), StoreUnavailableError);
    await assert.rejects(store.append(message('nowhere')), StoreUnavailableError);
    await store.close();
  });

  test('schema name is validated', () => {
    assert.throws(
      () => new PostgresStore({ connectionString: TEST_DATABASE_URL, schema: 'bad"name' }),
      /invalid PostgreSQL schema name/,
    );
  });

  test('nul in a sender id fails alone', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store: MessageStore = await openStore();
    const room = `nul-${randomUUID()}`;
    try {
      const bad = store.append(message(room, { sender: { id: 'a\u0000b', name: 'Nul' } }));
      const good = store.append(message(room));

      await assert.rejects(bad, /U\+0000/);
      assert.equal((await good).event.seq, 1);
    } finally {
      await store.close();
    }
  });
});

/** Waits until a backend of the store waits for a lock, and returns its pid. */
async function waitForBackendWaiting(admin: pg.Client): Promise<number> {
  // The schema name is unique to this run, so no other test's backend matches.
  for (let attempt = 0; attempt < 100; attempt++) {
    const result = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE application_name = 'confab' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
          AND position($1 in query) > 0`,
      [schema],
    );
    const row = result.rows[0];
    if (row !== undefined) {
      return row.pid;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no store backend started waiting for the room lock');
}
