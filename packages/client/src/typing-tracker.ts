import type { UserRef } from '@confab/protocol';

/**
 * Other users typing in one room, each with a local expiry. A start that is never followed by a
 * stop (a lost frame, a crashed peer) still ends at its expiry, so no user is shown typing forever.
 */
export class TypingTracker {
  readonly #typing = new Map<string, { user: UserRef; expiresAtMs: number }>();

  /**
   * Applies a typing frame received at `nowMs`; a start lasts `expiryMs` without renewal (the
   * server's timeout plus leeway). Returns whether the set of typing users changed.
   */
  apply(user: UserRef, typing: boolean, nowMs: number, expiryMs: number): boolean {
    if (!typing) {
      return this.remove(user.id);
    }
    const known = this.#typing.get(user.id);
    this.#typing.set(user.id, { user, expiresAtMs: nowMs + expiryMs });
    return known === undefined || known.user.name !== user.name;
  }

  remove(userId: string): boolean {
    return this.#typing.delete(userId);
  }

  clear(): boolean {
    const hadAny = this.#typing.size > 0;
    this.#typing.clear();
    return hadAny;
  }

  /** Drops the starts that have expired by `nowMs`; returns whether any did. */
  expire(nowMs: number): boolean {
    let changed = false;
    for (const [userId, entry] of this.#typing) {
      if (entry.expiresAtMs <= nowMs) {
        this.#typing.delete(userId);
        changed = true;
      }
    }
    return changed;
  }

  /** Time of the earliest expiry, or null when no user is typing. */
  nextExpiryMs(): number | null {
    let next: number | null = null;
    for (const entry of this.#typing.values()) {
      next = next === null ? entry.expiresAtMs : Math.min(next, entry.expiresAtMs);
    }
    return next;
  }

  /** Typing users in the order their typing began. */
  users(): UserRef[] {
    return [...this.#typing.values()].map((entry) => entry.user);
  }
}
