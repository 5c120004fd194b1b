import type { SerializedHistogram } from '../latency-histogram.js';
import type { ClientSpec, ProtocolKind } from './bench-client.js';
import type { CounterSnapshot } from './load-counters.js';

/** Requests the suite sends to a load worker, and what each one returns. */

export interface ConnectRequest {
  protocol: ProtocolKind;
  urls: string[];
  specs: ClientSpec[];
  /** Handshakes under way at once in this worker. */
  concurrency: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  /** Time from opening the socket to the last `joined`, per connection. */
  latency: SerializedHistogram;
  errors: Record<string, number>;
  firstError: string | undefined;
  startedMicros: number;
  finishedMicros: number;
}

export interface SenderRef {
  /** Index of the client in the worker, in the order the worker created them. */
  local: number;
  room: string;
}

export interface LoadRequest {
  senders: SenderRef[];
  ratePerSecond: number;
  payloadBytes: number;
  /** Monotonic times, in microseconds: sending starts, then counting, then both stop. */
  startMicros: number;
  windowStartMicros: number;
  windowEndMicros: number;
}

export interface LoadResult extends CounterSnapshot {
  /** Messages sent by this worker in the whole call, warm-up included. */
  sentTotal: number;
  sentInWindow: number;
  plannedInWindow: number;
  /** CPU time the worker used inside the window, in microseconds. */
  cpuMicros: number;
  /** Time the worker's event loop waited for a core inside the window, in microseconds. */
  runQueueWaitMicros: number;
  windowMicros: number;
}

export interface SendCountedRequest {
  senders: SenderRef[];
  perSender: number;
  ratePerSecond: number;
  payloadBytes: number;
  /** Whether to wait for an acknowledgement of every send (Confab only). */
  awaitAcks: boolean;
  timeoutMs: number;
}

export interface ResumeRequest {
  locals: number[];
  urls: string[];
  /** Events each client must receive after it reconnects. */
  expectedEvents: number;
  concurrency: number;
  timeoutMs: number;
}

export interface ResumeResult {
  completed: number;
  failed: number;
  latency: SerializedHistogram;
  firstError: string | undefined;
  startedMicros: number;
  finishedMicros: number;
}

/** Running totals of a worker since it started, for draining after a step. */
export interface WorkerTotals {
  deliveries: number;
  acks: number;
}
