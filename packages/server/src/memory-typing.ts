import type { UserRef } from '@confab/protocol';

import type { TypingListener, TypingService } from './typing-service.js';

interface TypingEntry {
  room: string;
  user: UserRef;
  connectionId: string;
  timer: NodeJS.Timeout;
}

/** Typing indicators of one process, each expiring on its own timer. */
export class MemoryTyping implements TypingService {
  private readonly entries = new Map<string, TypingEntry>();
  private readonly timeoutMs: number;
  private listener: TypingListener = () => {};

  constructor(options: { timeoutMs: number }) {
    this.timeoutMs = options.timeoutMs;
  }

  async start(listener: TypingListener): Promise<void> {
    this.listener = listener;
  }

  setTyping(room: string, user: UserRef, connectionId: string, typing: boolean): void {
    const key = typingKey(room, user.id);
    const entry = this.entries.get(key);

    if (!typing) {
      if (entry !== undefined) {
        this.stop(key, entry);
      }
      return;
    }

    if (entry !== undefined) {
      // A renewal: restart the expiry and keep the indicator on without telling anyone again.
      clearTimeout(entry.timer);
      entry.connectionId = connectionId;
      entry.timer = this.expireLater(key);
      return;
    }

    this.entries.set(key, { room, user, connectionId, timer: this.expireLater(key) });
    this.listener({ room, user, typing: true });
  }

  clearConnection(room: string, userId: string, connectionId: string): void {
    const key = typingKey(room, userId);
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.connectionId === connectionId) {
      this.stop(key, entry);
    }
  }

  async close(): Promise<void> {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
    }
    this.entries.clear();
  }

  private expireLater(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const entry = this.entries.get(key);
      if (entry !== undefined) {
        this.stop(key, entry);
      }
    }, this.timeoutMs);
    timer.unref();
    return timer;
  }

  private stop(key: string, entry: TypingEntry): void {
    clearTimeout(entry.timer);
    this.entries.delete(key);
    this.listener({ room: entry.room, user: entry.user, typing: false });
  }
}

// NUL cannot occur in a room name or a user id, so the key is unambiguous.
function typingKey(room: string, userId: string): string {
  return `${room}\u0000${userId}`;
}
