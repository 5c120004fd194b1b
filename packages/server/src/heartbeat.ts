/** A connection as the heartbeat uses it: pinged each round, dropped when its pong is late. */
export interface HeartbeatPeer {
  /** Sends a ping unless the last one has no pong yet; returns whether it sent one. */
  ping(round: number): boolean;
  /** Drops the peer if the ping of `round` still has no pong. */
  expire(round: number): void;
}

/**
 * One timer for every connection of a server: each interval it pings every peer, and after the
 * ping timeout it drops the ones that sent no pong. A silent peer is therefore dropped within
 * ping interval + ping timeout, and an idle connection costs no timer of its own.
 */
export class Heartbeat {
  private readonly peers = new Set<HeartbeatPeer>();
  private intervalTimer: NodeJS.Timeout | undefined;
  private readonly expiryTimers = new Set<NodeJS.Timeout>();
  private round = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  add(peer: HeartbeatPeer): void {
    this.peers.add(peer);
    if (this.intervalTimer === undefined) {
      this.intervalTimer = setInterval(() => this.pingAll(), this.intervalMs);
      this.intervalTimer.unref();
    }
  }

  remove(peer: HeartbeatPeer): void {
    this.peers.delete(peer);
  }

  /** Stops every timer; peers added later start it again. */
  stop(): void {
    clearInterval(this.intervalTimer);
    this.intervalTimer = undefined;
    for (const timer of this.expiryTimers) {
      clearTimeout(timer);
    }
    this.expiryTimers.clear();
  }

  private pingAll(): void {
    if (this.peers.size === 0) {
      clearInterval(this.intervalTimer);
      this.intervalTimer = undefined;
      return;
    }
    // NOTE: every peer is pinged in the same tick, one write each: about 10,000 writes at once per
    // interval with 10,000 connections. Spreading a round over the interval would smooth that.
    const round = ++this.round;
    let pinged = 0;
    for (const peer of this.peers) {
      if (peer.ping(round)) {
        pinged++;
      }
    }
    if (pinged === 0) {
      return;
    }
    const timer = setTimeout(() => {
      this.expiryTimers.delete(timer);
      for (const peer of this.peers) {
        peer.expire(round);
      }
    }, this.timeoutMs);
    timer.unref();
    this.expiryTimers.add(timer);
  }
}
