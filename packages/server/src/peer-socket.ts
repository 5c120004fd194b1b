import { CLOSE_CODES } from '@confab/protocol';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';

/** How often a socket over its soft cap is checked again, in milliseconds. */
const SLOW_CHECK_INTERVAL_MS = 100;
/** How long a closing socket may take to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** Send-buffer level, as a fraction of the soft cap, below which catch-up reads resume. */
const DRAIN_RESUME_FRACTION = 0.5;

/** Counts what the output policy dropped or closed. */
export interface PeerSocketObserver {
  droppedFrame(kind: 'typing' | 'presence'): void;
  closedSlowConsumer(): void;
}

export interface PeerSocketOptions {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  sendBufferSoftBytes: number;
  sendBufferHardBytes: number;
  slowConsumerGraceMs: number;
}

/**
 * A WebSocket with the server's output policy: heartbeats that drop a silent peer, and a bounded
 * send buffer. Over the soft cap, typing and presence frames are dropped, and the rooms that lost
 * presence are reported through `onBufferRecovered` once the buffer drains. A buffer over the hard
 * cap, or over the soft cap for longer than the grace period, closes the socket with `slowConsumer`.
 */
export class PeerSocket {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private slowTimer: NodeJS.Timeout | undefined;
  private overSoftCapSinceMs = 0;
  private readonly roomsMissingPresence = new Set<string>();
  private droppedFrames = 0;
  /** Called with the rooms whose presence frames were dropped, once the buffer is below the soft cap. */
  onBufferRecovered: (rooms: string[]) => void = () => {};

  constructor(
    readonly ws: WebSocket,
    private readonly options: PeerSocketOptions,
    private readonly logger: Logger,
    private readonly observer: PeerSocketObserver,
  ) {
    ws.on('pong', () => this.handlePong());
    this.pingTimer = setInterval(() => this.sendPing(), options.pingIntervalMs);
    this.pingTimer.unref();
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Queues a frame; returns false when it was dropped or the socket is no longer open. */
  send(data: Buffer | string, kind: 'reply' | 'event' | 'typing' | 'presence', room?: string): boolean {
    if (!this.isOpen) {
      return false;
    }

    const queuedBytes = this.ws.bufferedAmount;
    if (queuedBytes > this.options.sendBufferHardBytes) {
      this.closeSlowConsumer(queuedBytes);
      return false;
    }
    if (queuedBytes > this.options.sendBufferSoftBytes) {
      this.watchSlowConsumer();
      if (kind === 'typing' || kind === 'presence') {
        this.droppedFrames++;
        this.observer.droppedFrame(kind);
        if (kind === 'presence' && room !== undefined) {
          this.roomsMissingPresence.add(room);
        }
        return false;
      }
    }

    // Pre-encoded frames arrive as Buffers, which ws would send as binary frames. Protocol v1 uses
    // text frames only, and a browser hands a binary frame to the page as a Blob.
    this.ws.send(data, { binary: false });
    return true;
  }

  /** Resolves true when the send buffer is low enough for more, false when the socket closed. */
  async waitForDrain(): Promise<boolean> {
    const resumeBytes = this.options.sendBufferSoftBytes * DRAIN_RESUME_FRACTION;
    while (this.isOpen && this.ws.bufferedAmount > resumeBytes) {
      await new Promise((resolve) => setTimeout(resolve, SLOW_CHECK_INTERVAL_MS));
    }
    return this.isOpen;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) {
      return;
    }
    if (this.ws.readyState !== WebSocket.CLOSING) {
      this.ws.close(code, reason);
    }
    const destroy = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    destroy.unref();
  }

  /** Stops the timers; called once the socket has closed. */
  dispose(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearInterval(this.slowTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
    this.slowTimer = undefined;
  }

  private sendPing(): void {
    if (!this.isOpen || this.pongTimer !== undefined) {
      return;
    }
    this.ws.ping();
    this.pongTimer = setTimeout(() => {
      this.logger.info({ pingTimeoutMs: this.options.pingTimeoutMs }, 'peer missed a heartbeat; dropping it');
      this.ws.terminate();
    }, this.options.pingTimeoutMs);
    this.pongTimer.unref();
  }

  private handlePong(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private watchSlowConsumer(): void {
    if (this.slowTimer !== undefined) {
      return;
    }
    this.overSoftCapSinceMs = Date.now();
    this.slowTimer = setInterval(() => this.checkSlowConsumer(), SLOW_CHECK_INTERVAL_MS);
    this.slowTimer.unref();
  }

  private checkSlowConsumer(): void {
    const queuedBytes = this.ws.bufferedAmount;
    if (!this.isOpen) {
      clearInterval(this.slowTimer);
      this.slowTimer = undefined;
      return;
    }
    if (queuedBytes <= this.options.sendBufferSoftBytes) {
      clearInterval(this.slowTimer);
      this.slowTimer = undefined;
      this.logger.debug({ droppedFrames: this.droppedFrames }, 'send buffer drained below the soft cap');
      const rooms = [...this.roomsMissingPresence];
      this.roomsMissingPresence.clear();
      if (rooms.length > 0) {
        this.onBufferRecovered(rooms);
      }
      return;
    }
    if (Date.now() - this.overSoftCapSinceMs >= this.options.slowConsumerGraceMs) {
      this.closeSlowConsumer(queuedBytes);
    }
  }

  private closeSlowConsumer(queuedBytes: number): void {
    this.logger.warn(
      { queuedBytes, droppedFrames: this.droppedFrames },
      'closing slow consumer: send buffer stayed over its cap',
    );
    clearInterval(this.slowTimer);
    this.slowTimer = undefined;
    this.observer.closedSlowConsumer();
    this.close(CLOSE_CODES.slowConsumer, 'slow consumer: reconnect and resume');
  }
}
