import type { BatchAppend } from './sqlite-batch-writer.js';

/** The settings the writer thread starts with. */
export interface WriterSettings {
  /** `writer` commits batches; `checkpointer` copies the WAL back to the database file. */
  role: 'writer' | 'checkpointer';
  path: string;
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
}

/**
 * Main thread to writer thread. A batch travels as one JSON string: cloning a string is a copy,
 * while the structured clone of hundreds of small objects costs the event loop more than the JSON.
 */
export type WriterRequest = { type: 'write'; batchJson: string; timestamp: number } | { type: 'close' };

/** The batch inside a `write` request. */
export type BatchJson = BatchAppend[];

/** Writer thread to main thread: `ready` or `failed` once at start, then one reply per write. */
export type WriterReply =
  | { type: 'ready' }
  | { type: 'written'; outcomesJson: string; durationMs: number }
  | { type: 'failed'; message: string };
