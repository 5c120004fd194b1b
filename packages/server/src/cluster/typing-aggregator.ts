import type { UserRef } from '@confab/protocol';

import type { TypingListener } from '../typing-service.js';

interface UserTyping {
  room: string;
  user: UserRef;
  /** Nodes that report the user typing, each with the timer that ends the report (none for our own). */
  sources: Map<string, NodeJS.Timeout | undefined>;
}

/**
 * Combines the typing reports of every node into one indicator per user and room. A user typing on
 * two nodes at once (two devices) is one indicator: it starts with the first report and stops when
 * the last one stops or expires. A report from another node carries its remaining time, so a node
 * that dies mid-typing cannot leave the indicator on.
 */
export class TypingAggregator {
  private readonly users = new Map<string, UserTyping>();

  constructor(private readonly listener: () => TypingListener) {}

  /**
   * Applies one node's report. `expiresInMs` ends the report by itself after that long; leave it out
   * for a source that always reports its own stop (this node).
   */
  report(room: string, user: UserRef, source: string, typing: boolean, expiresInMs?: number): void {
    const key = userKey(room, user.id);
    let state = this.users.get(key);

    if (!typing) {
      if (state === undefined || !state.sources.has(source)) {
        return;
      }
      clearTimeout(state.sources.get(source));
      state.sources.delete(source);
      if (state.sources.size === 0) {
        this.users.delete(key);
        this.listener()({ room, user: state.user, typing: false });
      }
      return;
    }

    const started = state === undefined;
    if (state === undefined) {
      state = { room, user, sources: new Map() };
      this.users.set(key, state);
    }
    clearTimeout(state.sources.get(source));
    let timer: NodeJS.Timeout | undefined;
    if (expiresInMs !== undefined) {
      timer = setTimeout(() => this.report(room, user, source, false), Math.max(0, expiresInMs));
      timer.unref();
    }
    state.sources.set(source, timer);
    if (started) {
      this.listener()({ room, user, typing: true });
    }
  }

  clear(): void {
    for (const state of this.users.values()) {
      for (const timer of state.sources.values()) {
        clearTimeout(timer);
      }
    }
    this.users.clear();
  }
}

// NUL cannot occur in a room name, so the key is unambiguous.
function userKey(room: string, userId: string): string {
  return `${room}\u0000${userId}`;
}
