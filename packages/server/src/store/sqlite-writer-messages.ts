import type { BatchAppend, BatchOutcome } from './sqlite-batch-writer.js';

/** The settings the writer thread starts with. */
export interface WriterSettings {
  path: string;
  synchronous: 'full' | 'normal';
  busyTimeoutMs: number;
}

/** Main thread to writer thread. */
export type WriterRequest = { type: 'write'; batch: BatchAppend[]; timestamp: number } | { type: 'close' };

/** Writer thread to main thread: `ready` or `failed` once at start, then one reply per write. */
export type WriterReply =
  | { type: 'ready' }
  | { type: 'written'; outcomes: BatchOutcome[]; durationMs: number }
  | { type: 'failed'; message: string };
