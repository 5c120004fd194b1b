import type { Duplex } from 'node:stream';

import { CLOSE_CODES } from '@confab/protocol';
import { WebSocket } from 'ws';

import type { EventLog } from './connection-log.js';
import type { Heartbeat, HeartbeatPeer } from './heartbeat.js';
import { encodeTextFrame } from './wire-frame.js';

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
  pingTimeoutMs: number;
  sendBufferSoftBytes: number;
  sendBufferHardBytes: number;
  slowConsumerGraceMs: number;
}

/** The connection a socket belongs to, which resends the presence that dropped frames left out. */
export interface PeerSocketOwner {
  /** The buffer drained below the soft cap after presence frames of `rooms` were dropped. */
  bufferRecovered(rooms: string[]): void;
}

/** The kind of a frame, for the output policy: replies and events are never dropped. */
export type FrameKind = 'reply' | 'event' | 'typing' | 'presence';

// Sockets with frames waiting, written out together once the current loop turn's I/O is handled.
// A socket is listed when its first frame is queued. One that closed in between has nothing left.
let socketsToFlush: PeerSocket[] = [];

function flushQueuedFrames(): void {
  const peers = socketsToFlush;
  socketsToFlush = [];
  for (const peer of peers) {
    peer.flush();
  }
}

/**
 * A WebSocket with the server's output policy.
 *
 * Frames are queued and written at the end of the loop turn, all of a socket's frames in one write:
 * under load a member gets several events per write instead of one write each. Frames that several
 * sockets share arrive already framed (see wire-frame.ts), so framing costs nothing per member.
 *
 * The send buffer is bounded. Over the soft cap, typing and presence frames are dropped, and the
 * rooms that lost presence are reported to the owner once the buffer drains. A
 * buffer over the hard cap, or over the soft cap for longer than the grace period, closes the
 * socket with `slowConsumer`. A peer that misses a heartbeat is dropped.
 */
export class PeerSocket implements HeartbeatPeer {
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private pingRound = 0;
  private awaitingPong = false;
  private slowTimer: NodeJS.Timeout | undefined;
  private overSoftCapSinceMs = 0;
  private roomsMissingPresence: Set<string> | undefined;
  private droppedFrames = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly options: PeerSocketOptions,
    private readonly heartbeat: Heartbeat,
    private readonly log: EventLog,
    private readonly observer: PeerSocketObserver,
    private readonly owner: PeerSocketOwner,
  ) {
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    heartbeat.add(this);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes waiting for the peer: queued here, in ws and in the socket. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount + this.queuedBytes;
  }

  /** Queues a reply frame, encoding it for this socket alone. */
  sendText(text: string): boolean {
    return this.send(encodeTextFrame(text), 'reply');
  }

  /**
   * Queues a frame built by `encodeTextFrame`; returns false when it was dropped or the socket is
   * no longer open.
   */
  send(frame: Buffer, kind: FrameKind, room?: string): boolean {
    if (!this.isOpen) {
      return false;
    }

    const bufferedBytes = this.bufferedBytes;
    if (bufferedBytes > this.options.sendBufferHardBytes) {
      this.closeSlowConsumer(bufferedBytes);
      return false;
    }
    if (bufferedBytes > this.options.sendBufferSoftBytes) {
      this.watchSlowConsumer();
      if (kind === 'typing' || kind === 'presence') {
        this.droppedFrames++;
        this.observer.droppedFrame(kind);
        if (kind === 'presence' && room !== undefined) {
          this.roomsMissingPresence ??= new Set();
          this.roomsMissingPresence.add(room);
        }
        return false;
      }
    }

    this.queued.push(frame);
    this.queuedBytes += frame.length;
    if (this.queued.length === 1) {
      if (socketsToFlush.length === 0) {
        setImmediate(flushQueuedFrames);
      }
      socketsToFlush.push(this);
    }
    return true;
  }

  /** Writes the queued frames in one write; they are dropped if the socket has closed meanwhile. */
  flush(): void {
    const frames = this.queued;
    if (frames.length === 0) {
      return;
    }
    const bytes = this.queuedBytes;
    this.queued = [];
    this.queuedBytes = 0;
    if (!this.isOpen || !this.socket.writable) {
      return;
    }
    this.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames, bytes));
  }

  /** Resolves true when the send buffer is low enough for more, false when the socket closed. */
  async waitForDrain(): Promise<boolean> {
    const resumeBytes = this.options.sendBufferSoftBytes * DRAIN_RESUME_FRACTION;
    while (this.isOpen && this.bufferedBytes > resumeBytes) {
      await new Promise((resolve) => setTimeout(resolve, SLOW_CHECK_INTERVAL_MS));
    }
    return this.isOpen;
  }

  /** Writes what is queued, then starts the close handshake. */
  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSED) {
      return;
    }
    if (this.ws.readyState !== WebSocket.CLOSING) {
      this.flush();
      this.ws.close(code, reason);
    }
    const destroy = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    destroy.unref();
  }

  /** Stops the timers and drops what is queued; called once the socket has closed. */
  dispose(): void {
    this.heartbeat.remove(this);
    clearInterval(this.slowTimer);
    this.slowTimer = undefined;
    this.queued = [];
    this.queuedBytes = 0;
  }

  ping(round: number): boolean {
    if (!this.isOpen || this.awaitingPong) {
      return false;
    }
    this.pingRound = round;
    this.awaitingPong = true;
    this.ws.ping();
    return true;
  }

  expire(round: number): void {
    if (this.awaitingPong && this.pingRound === round) {
      this.log.info({ pingTimeoutMs: this.options.pingTimeoutMs }, 'peer missed a heartbeat; dropping it');
      this.ws.terminate();
    }
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
    const bufferedBytes = this.bufferedBytes;
    if (!this.isOpen) {
      clearInterval(this.slowTimer);
      this.slowTimer = undefined;
      return;
    }
    if (bufferedBytes <= this.options.sendBufferSoftBytes) {
      clearInterval(this.slowTimer);
      this.slowTimer = undefined;
      this.log.debug({ droppedFrames: this.droppedFrames }, 'send buffer drained below the soft cap');
      const rooms = this.roomsMissingPresence;
      this.roomsMissingPresence = undefined;
      if (rooms !== undefined && rooms.size > 0) {
        this.owner.bufferRecovered([...rooms]);
      }
      return;
    }
    if (Date.now() - this.overSoftCapSinceMs >= this.options.slowConsumerGraceMs) {
      this.closeSlowConsumer(bufferedBytes);
    }
  }

  private closeSlowConsumer(bufferedBytes: number): void {
    this.log.warn(
      { queuedBytes: bufferedBytes, droppedFrames: this.droppedFrames },
      'closing slow consumer: send buffer stayed over its cap',
    );
    clearInterval(this.slowTimer);
    this.slowTimer = undefined;
    this.observer.closedSlowConsumer();
    this.close(CLOSE_CODES.slowConsumer, 'slow consumer: reconnect and resume');
  }
}
