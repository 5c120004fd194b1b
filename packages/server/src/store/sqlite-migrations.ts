import { randomUUID } from 'node:crypto';

import type { Database } from 'better-sqlite3';

/**
 * The schema steps of the SQLite log, in order. Step `i` moves a database from `user_version` i to
 * i + 1. Append new steps at the end and never edit a released one, because databases that already
 * ran it will not run it again.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  (db) => {
    // `body` contains the JSON payload of the event's kind ({content} for a message), so new kinds
    // add their own payload without a schema change. Order is by seq only: timestamps may repeat.
    db.exec(`
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE events (
        room TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        sender_name TEXT NOT NULL,
        client_message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (room, seq)
      ) STRICT;

      CREATE UNIQUE INDEX events_idempotency_key ON events (room, sender_id, client_message_id);
    `);

    // The epoch is created with the log and kept for its whole life, so that clients can tell a
    // cursor from this log apart from one of a log that was deleted and created anew.
    db.prepare(`INSERT INTO meta (key, value) VALUES ('epoch', ?)`).run(randomUUID());
  },
  (db) => {
    // Drops the unique index on `id`. Ids are random v4 UUIDs and nothing looks an event up by
    // id, while the index put each insert on a random page: it cost about a quarter of the CPU of
    // a write spread over many rooms. SQLite cannot drop a column constraint, so the table is
    // copied.
    db.exec(`
      CREATE TABLE events_v2 (
        room TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        sender_name TEXT NOT NULL,
        client_message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (room, seq)
      ) STRICT;

      INSERT INTO events_v2 (room, seq, id, kind, sender_id, sender_name, client_message_id, body, created_at)
        SELECT room, seq, id, kind, sender_id, sender_name, client_message_id, body, created_at FROM events;
      DROP TABLE events;
      ALTER TABLE events_v2 RENAME TO events;
      CREATE UNIQUE INDEX events_idempotency_key ON events (room, sender_id, client_message_id);
    `);
  },
];

/** The schema version that the last step of `SQLITE_MIGRATIONS` produces. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

/** The schema versions before and after `migrateSqliteSchema` ran. */
export interface SqliteMigrationResult {
  fromVersion: number;
  toVersion: number;
}

/**
 * Applies the missing steps of `SQLITE_MIGRATIONS`, each in its own write transaction together with
 * its `user_version` bump. The version is read inside that transaction, so two processes that open
 * the same new file at once run each step only once.
 */
export function migrateSqliteSchema(db: Database): SqliteMigrationResult {
  const readVersion = (): number => db.pragma('user_version', { simple: true }) as number;
  const fromVersion = readVersion();

  if (fromVersion > SQLITE_SCHEMA_VERSION) {
    throw new Error(
      `The database has schema version ${fromVersion}, but this server knows versions up to ` +
        `${SQLITE_SCHEMA_VERSION}; run a newer server, or point databasePath at another file.`,
    );
  }

  const applyNextStep = db.transaction((): boolean => {
    const version = readVersion();
    const step = SQLITE_MIGRATIONS[version];
    if (step === undefined) {
      return false;
    }

    step(db);
    // PRAGMA takes no bound parameters; `version` is an integer read from SQLite itself.
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });

  while (applyNextStep.immediate()) {
    // Each pass applies one step; the loop ends when the database is current.
  }

  return { fromVersion, toVersion: readVersion() };
}
