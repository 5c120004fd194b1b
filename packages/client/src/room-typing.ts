import type { UserRef } from '@confab/protocol';

import { TypingThrottle } from './typing-throttle.js';
import { TypingTracker } from './typing-tracker.js';

export interface RoomTypingOptions {
  renewIntervalMs: number;
  idleMs: number;
  /** How long a remote start lasts without renewal, in milliseconds. */
  remoteExpiryMs: () => number;
  /** Sends a typing frame for the local user. */
  send: (typing: boolean) => void;
  /** Called when the list of remote typing users changes on its own (an expiry). */
  onRemoteExpired: () => void;
}

/**
 * A room's typing state in both directions: the local user's throttled frames, with a timer for
 * the stop after a pause, and the remote users' starts, with a timer for their expiry.
 */
export class RoomTyping {
  readonly #options: RoomTypingOptions;
  readonly #throttle: TypingThrottle;
  readonly #tracker = new TypingTracker();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RoomTypingOptions) {
    this.#options = options;
    this.#throttle = new TypingThrottle({ renewIntervalMs: options.renewIntervalMs, idleMs: options.idleMs });
  }

  get users(): UserRef[] {
    return this.#tracker.users();
  }

  setLocal(typing: boolean): void {
    const signal = typing ? this.#throttle.keystroke(Date.now()) : this.#throttle.stop();
    this.#scheduleIdleStop();
    if (signal !== null) {
      this.#options.send(signal === 'start');
    }
  }

  /** Records that the local user sent a message, which ends their typing on the server. */
  messageSent(): void {
    this.#throttle.messageSent();
    this.#scheduleIdleStop();
  }

  /** Applies a remote typing frame; returns whether the list changed. */
  applyRemote(user: UserRef, typing: boolean): boolean {
    const changed = this.#tracker.apply(user, typing, Date.now(), this.#options.remoteExpiryMs());
    this.#scheduleExpiry();
    return changed;
  }

  removeRemote(userId: string): boolean {
    const changed = this.#tracker.remove(userId);
    this.#scheduleExpiry();
    return changed;
  }

  /** Forgets both directions, as when the connection drops; returns whether remote users were cleared. */
  reset(): boolean {
    this.#throttle.reset();
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#expiryTimer);
    return this.#tracker.clear();
  }

  dispose(): void {
    this.reset();
  }

  #scheduleIdleStop(): void {
    clearTimeout(this.#idleTimer);
    const deadline = this.#throttle.idleDeadlineMs();
    if (deadline === null) {
      return;
    }
    this.#idleTimer = setTimeout(() => {
      const signal = this.#throttle.checkIdle(Date.now());
      if (signal !== null) {
        this.#options.send(false);
      } else {
        this.#scheduleIdleStop();
      }
    }, Math.max(0, deadline - Date.now()));
  }

  #scheduleExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const next = this.#tracker.nextExpiryMs();
    if (next === null) {
      return;
    }
    this.#expiryTimer = setTimeout(() => {
      if (this.#tracker.expire(Date.now())) {
        this.#options.onRemoteExpired();
      }
      this.#scheduleExpiry();
    }, Math.max(0, next - Date.now()));
  }
}
