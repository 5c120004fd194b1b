/**
 * The SQLite writer thread. A commit, its sync and a WAL checkpoint that SQLite runs inside it can
 * take milliseconds. Here they block this thread, not the server's event loop. The main thread
 * sends one batch at a time and waits for its reply.
 */
import { parentPort, workerData } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { configureConnection, SqliteBatchWriter } from './sqlite-batch-writer.js';
import type { BatchJson, WriterReply, WriterRequest, WriterSettings } from './sqlite-writer-messages.js';

const port = parentPort;
if (port === null) {
  throw new Error('sqlite-writer-worker.js runs as a worker thread; SqliteStore starts it');
}
const settings = workerData as WriterSettings;

let db: Database.Database | undefined;
let writer: SqliteBatchWriter | undefined;
try {
  db = new Database(settings.path, { timeout: settings.busyTimeoutMs });
  configureConnection(db, settings.busyTimeoutMs, settings.synchronous);
  writer = new SqliteBatchWriter(db);
  reply({ type: 'ready' });
} catch (error) {
  db?.close();
  reply({ type: 'failed', message: describeError(error) });
}

port.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    db?.close();
    port.close();
    return;
  }
  if (writer === undefined) {
    reply({ type: 'failed', message: 'the writer could not open the database' });
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

function reply(message: WriterReply): void {
  port?.postMessage(message);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
