/** Maximum number of this browser's clientMessageIds kept; the oldest are dropped first. */
const MAX_REMEMBERED_IDS = 2000;
const LOCAL_STORAGE_KEY = 'confab.web.own-message-ids.v1';

/**
 * Set of the clientMessageIds of messages sent from this browser. A guest whose key could not be
 * stored (private mode) gets a new user id after a reload, so the sender id no longer shows which
 * messages are the user's own. The ids of the messages this browser sent still do.
 */

export class OwnMessageIds {
  readonly #ids: Set<string>;

  constructor() {
    this.#ids = new Set(readStoredIds());
  }

  /** Forgets every id, in memory and in storage, so that the next user does not see them as their own. */
  clear(): void {
    this.#ids.clear();
    try {
      window.localStorage.removeItem(LOCAL_STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to clear.
    }
  }

  has(clientMessageId: string): boolean {
    return this.#ids.has(clientMessageId);
  }

  /** Adds the ids not seen before and returns whether any was new. */
  add(clientMessageIds: Iterable<string>): boolean {
    let added = false;
    for (const id of clientMessageIds) {
      if (!this.#ids.has(id)) {
        this.#ids.add(id);
        added = true;
      }
    }
    if (!added) {
      return false;
    }

    const overflow = this.#ids.size - MAX_REMEMBERED_IDS;
    if (overflow > 0) {
      // A Set iterates in insertion order, so the first entries are the oldest.
      [...this.#ids].slice(0, overflow).forEach((id) => this.#ids.delete(id));
    }
    try {
      window.localStorage.setItem(LOCAL_STORAGE_KEY, JSON.stringify([...this.#ids]));
    } catch {
      // Without storage the ids last until the page is closed.
    }
    return true;
  }
}

function readStoredIds(): string[] {
  try {
    const value: unknown = JSON.parse(window.localStorage.getItem(LOCAL_STORAGE_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** The ids of the messages sent from this page, shared by every room. */
export const ownMessageIds = new OwnMessageIds();
