import { WebSocket } from 'ws';

import { nowMicros } from '../monotonic-clock.js';
import type { LoadCounters } from './load-counters.js';
import { readPayloadTime } from './payload.js';

/** The wire protocols the load generator speaks. */
export type ProtocolKind = 'raw' | 'socketio' | 'confab';

/** One simulated user: who it is, where it connects and which rooms it joins. */
export interface ClientSpec {
  userId: string;
  /** JWT for Confab; the baselines ignore it. */
  token: string;
  rooms: string[];
  /** Index into the list of server URLs, for clusters of several nodes. */
  urlIndex: number;
  /** Latency is also recorded per group, such as clients on the publisher's node and the others. */
  latencyGroup?: number;
}

/** A resume request: the last seq the client has and the log it came from. */
export interface ResumePoint {
  since: number;
  epoch: string;
}

/** How long a connection may take to open, authenticate and join, in milliseconds. */
export const CONNECT_TIMEOUT_MS = 20_000;

/**
 * One WebSocket client of the load generator. Subclasses speak one protocol: they run its
 * handshake and mark the frames that carry a payload, and this class counts deliveries and closes.
 */
export abstract class BenchClient {
  protected ws: WebSocket | undefined;
  /** Events received since the last `connect`, for flows that wait for a known count. */
  deliveriesSinceConnect = 0;
  closeCode: number | undefined;
  private closingOnPurpose = false;
  private settleConnect: ((error?: Error) => void) | undefined;
  private deliveryWaiter: { count: number; resolve: () => void } | undefined;

  constructor(
    readonly spec: ClientSpec,
    protected readonly counters: LoadCounters,
  ) {}

  /** Resolves once the client has authenticated and joined every room of its spec. */
  connect(url: string, resume?: ResumePoint): Promise<void> {
    this.deliveriesSinceConnect = 0;
    this.closeCode = undefined;
    this.closingOnPurpose = false;

    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      const finish = (error?: Error): void => {
        if (this.settleConnect === undefined) {
          return;
        }
        this.settleConnect = undefined;
        clearTimeout(timer);
        if (error === undefined) {
          resolve();
        } else {
          this.terminate();
          reject(error);
        }
      };
      this.settleConnect = finish;

      const ws = this.openSocket(url);
      this.ws = ws;
      ws.on('open', () => this.handleOpen(resume));
      ws.on('message', (data: Buffer) => this.handleFrame(data));
      ws.on('error', (error) => finish(error));
      ws.on('close', (code) => {
        this.closeCode = code;
        if (!this.closingOnPurpose) {
          this.counters.recordError(`close-${code}`);
        }
        finish(new Error(`socket closed with code ${code} before the handshake finished`));
      });
    });
  }

  /** Sends one payload to a room; `sendMicros` doubles as the request id for acknowledged sends. */
  abstract send(room: string, payload: string, sendMicros: number): void;

  pauseReading(): void {
    this.ws?.pause();
  }

  resumeReading(): void {
    this.ws?.resume();
  }

  /** Closes with a close handshake and resolves when the socket has closed. */
  close(): Promise<void> {
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) {
      return Promise.resolve();
    }
    this.closingOnPurpose = true;
    return new Promise((resolve) => {
      const fallback = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(fallback);
        resolve();
      });
      ws.close(1000);
    });
  }

  /** Drops the socket without a close handshake. */
  terminate(): void {
    this.closingOnPurpose = true;
    this.ws?.terminate();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  protected abstract openSocket(url: string): WebSocket;
  protected abstract handleOpen(resume: ResumePoint | undefined): void;
  protected abstract handleFrame(data: Buffer): void;

  protected handshakeDone(): void {
    this.settleConnect?.();
  }

  protected handshakeFailed(reason: string): void {
    this.settleConnect?.(new Error(reason));
  }

  protected get handshaking(): boolean {
    return this.settleConnect !== undefined;
  }

  /** Resolves once `count` events have arrived since the last `connect`, or rejects at the timeout. */
  waitForDeliveries(count: number, timeoutMs: number): Promise<void> {
    if (this.deliveriesSinceConnect >= count) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.deliveryWaiter = undefined;
        reject(new Error(`received ${this.deliveriesSinceConnect} of ${count} events within ${timeoutMs} ms`));
      }, timeoutMs);
      this.deliveryWaiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  /** Counts a frame that carries a benchmark payload. */
  protected deliver(frame: Buffer): void {
    this.deliveriesSinceConnect++;
    this.counters.recordDelivery(readPayloadTime(frame), this.spec.latencyGroup ?? 0);
    const waiter = this.deliveryWaiter;
    if (waiter !== undefined && this.deliveriesSinceConnect >= waiter.count) {
      this.deliveryWaiter = undefined;
      waiter.resolve();
    }
  }

  protected sendText(text: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(text);
    }
  }

  protected now(): number {
    return nowMicros();
  }
}
