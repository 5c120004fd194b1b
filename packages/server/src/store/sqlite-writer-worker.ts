/**
 * The SQLite writer and checkpointer threads. A commit and its sync can take milliseconds, and a
 * checkpoint tens of them. In these threads they block neither the server's event loop nor, for a
 * checkpoint, the next commit. The main thread sends the writer one batch at a time and waits for
 * its reply.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { configureConnection, configureWriter, SqliteBatchWriter } from './sqlite-batch-writer.js';
import type { BatchJson, WriterReply, WriterRequest, WriterSettings } from './sqlite-writer-messages.js';

const port = parentPort;
if (port === null) {
  throw new Error('sqlite-writer-worker.js runs as a worker thread; SqliteStore starts it');
}
const settings = workerData as WriterSettings;

/** How often the checkpointer copies committed WAL pages back to the database file. */
const CHECKPOINT_INTERVAL_MS = 250;
/**
 * Nice value of the checkpointer thread. On Linux a nice value belongs to a thread, and
 * setPriority(0) sets the calling one, so checkpoints yield the core to the event loop and the
 * writer.
 */
const CHECKPOINTER_NICE = 10;

if (settings.role === 'checkpointer') {
  runCheckpointer();
} else {
  runWriter();
}

function runCheckpointer(): void {
  try {
    setPriority(0, CHECKPOINTER_NICE);
  } catch {
    // Not allowed here (a container may forbid it): checkpoints then run at normal priority.
  }
  let checkpointDb: Database.Database;
  try {
    checkpointDb = new Database(settings.path, { timeout: settings.busyTimeoutMs });
    configureConnection(checkpointDb, settings.busyTimeoutMs, settings.synchronous);
  } catch (error) {
    reply({ type: 'failed', message: describeError(error) });
    return;
  }
  // PASSIVE copies what it can without waiting for the writer or readers to finish (SQLite's
  // documentation of PRAGMA wal_checkpoint).
  const timer = setInterval(() => {
    try {
      checkpointDb.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      reply({ type: 'failed', message: describeError(error) });
    }
  }, CHECKPOINT_INTERVAL_MS);
  reply({ type: 'ready' });
  port?.on('message', (request: WriterRequest) => {
    if (request.type === 'close') {
      clearInterval(timer);
      checkpointDb.close();
      port.close();
    }
  });
}

function runWriter(): void {
  let db: Database.Database | undefined;
  let writer: SqliteBatchWriter | undefined;
  try {
    db = new Database(settings.path, { timeout: settings.busyTimeoutMs });
    configureConnection(db, settings.busyTimeoutMs, settings.synchronous);
    configureWriter(db);
    writer = new SqliteBatchWriter(db);
    reply({ type: 'ready' });
  } catch (error) {
    db?.close();
    reply({ type: 'failed', message: describeError(error) });
  }

  port?.on('message', (request: WriterRequest) => {
    if (request.type === 'close') {
      db?.close();
      port.close();
      return;
    }
    if (writer === undefined) {
      reply({ type: 'failed', message: `failed to write: the writer thread could not open ${settings.path}` });
      return;
    }
    try {
      const startedAtMs = performance.now();
      const batch = JSON.parse(request.batchJson) as BatchJson;
      const outcomes = writer.write(batch, request.timestamp);
      reply({ type: 'written', outcomesJson: JSON.stringify(outcomes), durationMs: performance.now() - startedAtMs });
    } catch (error) {
      reply({ type: 'failed', message: describeError(error) });
    }
  });
}

function reply(message: WriterReply): void {
  port?.postMessage(message);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
