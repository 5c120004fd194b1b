import { Worker } from 'node:worker_threads';

import type { Logger } from 'pino';

import type { BatchAppend, BatchOutcome, SqliteBatchWriter } from './sqlite-batch-writer.js';
import type { WriterReply, WriterRequest, WriterSettings } from './sqlite-writer-messages.js';

/** A committed batch: one outcome per append, and how long the transaction took. */
export interface WrittenBatch {
  outcomes: BatchOutcome[];
  durationMs: number;
}

/** The destination of the store's batches: one at a time, each resolved once committed. */
export interface BatchSink {
  write(batch: BatchAppend[], timestamp: number): Promise<WrittenBatch>;
  close(): Promise<void>;
}

/** Writes in the calling thread, for an in-memory database that no other thread can open. */
export class SameThreadSink implements BatchSink {
  constructor(private readonly writer: SqliteBatchWriter) {}

  write(batch: BatchAppend[], timestamp: number): Promise<WrittenBatch> {
    try {
      const startedAtMs = performance.now();
      const outcomes = this.writer.write(batch, timestamp);
      return Promise.resolve({ outcomes, durationMs: performance.now() - startedAtMs });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async close(): Promise<void> {}
}

/** Starts the writer thread: the compiled file next to this one, or its source under tsx. */
function startWorker(settings: WriterSettings): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./sqlite-writer-worker.js', import.meta.url), { workerData: settings });
  }
  // Tests run the TypeScript sources through tsx, whose loader does not reach a worker's entry
  // file by itself, so the worker registers it before importing the source.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./sqlite-writer-worker.ts', import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

/** Asks a writer or checkpointer thread to close its database and waits until it has exited. */
async function closeWorker(worker: Worker | undefined): Promise<void> {
  if (worker === undefined) {
    return;
  }
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // An unreferenced thread would let the process exit before this wait ends.
  worker.ref();
  worker.postMessage({ type: 'close' } satisfies WriterRequest);
  await exited;
}

interface PendingWrite {
  resolve(batch: WrittenBatch): void;
  reject(error: Error): void;
}

/**
 * The writer worker thread of a database file. A thread that stops (a crash in the native module,
 * say) fails the batch it held, and the next batch starts a new one.
 */
export class WriterThread implements BatchSink {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private pending: PendingWrite | undefined;
  private closed = false;

  constructor(
    private readonly settings: WriterSettings,
    private readonly logger: Logger,
  ) {}

  /** Starts the thread and waits until it has opened the database. */
  async start(): Promise<void> {
    await this.ensureWorker();
  }

  async write(batch: BatchAppend[], timestamp: number): Promise<WrittenBatch> {
    if (this.pending !== undefined) {
      throw new Error('WriterThread.write() was called while a batch was in flight; send one at a time');
    }
    const worker = await this.ensureWorker();
    return new Promise<WrittenBatch>((resolve, reject) => {
      this.pending = { resolve, reject };
      // A thread with a batch keeps the process alive until its reply arrives.
      worker.ref();
      worker.postMessage({ type: 'write', batchJson: JSON.stringify(batch), timestamp } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    await closeWorker(worker);
  }

  private ensureWorker(): Promise<Worker> {
    if (this.worker !== undefined) {
      return Promise.resolve(this.worker);
    }
    if (this.closed) {
      return Promise.reject(new Error('failed to write: the SQLite writer thread is closed'));
    }
    this.starting ??= this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    return new Promise<Worker>((resolve, reject) => {
      const worker = startWorker(this.settings);
      let ready = false;

      worker.on('message', (reply: WriterReply) => {
        if (!ready) {
          if (reply.type === 'ready') {
            ready = true;
            this.worker = worker;
            worker.unref();
            resolve(worker);
          } else {
            reject(new Error(reply.type === 'failed' ? reply.message : 'the writer thread sent no ready reply'));
            void worker.terminate();
          }
          return;
        }
        const pending = this.pending;
        this.pending = undefined;
        worker.unref();
        if (pending === undefined) {
          this.logger.error({ reply: reply.type }, 'the SQLite writer thread replied with no batch in flight');
        } else if (reply.type === 'written') {
          pending.resolve({ outcomes: JSON.parse(reply.outcomesJson) as BatchOutcome[], durationMs: reply.durationMs });
        } else {
          pending.reject(new Error(reply.type === 'failed' ? reply.message : `unexpected reply ${reply.type}`));
        }
      });
      worker.on('error', (error) => {
        this.logger.error({ err: error }, 'the SQLite writer thread failed');
        this.stopped(worker, error);
        if (!ready) {
          reject(error);
        }
      });
      worker.on('exit', (code) => {
        if (!this.closed) {
          this.logger.warn({ code }, 'the SQLite writer thread exited; the next batch starts a new one');
        }
        const error = new Error(`the SQLite writer thread exited with code ${code}`);
        this.stopped(worker, error);
        if (!ready) {
          reject(error);
        }
      });
    });
  }

  private stopped(worker: Worker, error: Error): void {
    if (this.worker !== worker) {
      return;
    }
    this.worker = undefined;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/**
 * The checkpointer thread of a database file: copies committed WAL pages back to the file every
 * quarter second, at low priority, so that the writer's commits do not wait for checkpoints.
 */
export class CheckpointThread {
  private worker: Worker | undefined;

  constructor(
    private readonly settings: Omit<WriterSettings, 'role'>,
    private readonly logger: Logger,
  ) {}

  /** Starts the thread and waits until it has opened the database. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = startWorker({ ...this.settings, role: 'checkpointer' });
      let ready = false;
      worker.on('message', (reply: WriterReply) => {
        if (reply.type === 'ready') {
          ready = true;
          this.worker = worker;
          worker.unref();
          resolve();
        } else if (reply.type === 'failed') {
          if (!ready) {
            reject(new Error(reply.message));
            void worker.terminate();
            return;
          }
          this.logger.warn({ error: reply.message }, 'WAL checkpoint failed; the next one runs in 250 ms');
        }
      });
      worker.on('error', (error) => {
        this.logger.error({ err: error }, 'the SQLite checkpointer thread failed; the writer checkpoints by itself');
        if (!ready) {
          reject(error);
        }
      });
      worker.on('exit', () => {
        this.worker = undefined;
      });
    });
  }

  async close(): Promise<void> {
    await closeWorker(this.worker);
  }
}
