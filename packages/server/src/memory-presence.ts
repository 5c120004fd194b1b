import type { Member, UserRef } from '@confab/protocol';

import type { PresenceListener, PresenceService } from './presence-service.js';

interface PresenceEntry {
  user: UserRef;
  connectionIds: Set<string>;
}

/** Presence of one process: a user is in a room while one of their connections here has joined it. */
export class MemoryPresence implements PresenceService {
  private readonly rooms = new Map<string, Map<string, PresenceEntry>>();
  private listener: PresenceListener = () => {};

  async start(listener: PresenceListener): Promise<void> {
    this.listener = listener;
  }

  async add(room: string, user: UserRef, connectionId: string): Promise<void> {
    let entries = this.rooms.get(room);
    if (entries === undefined) {
      entries = new Map();
      this.rooms.set(room, entries);
    }

    const entry = entries.get(user.id);
    if (entry !== undefined) {
      entry.connectionIds.add(connectionId);
      return;
    }

    entries.set(user.id, { user, connectionIds: new Set([connectionId]) });
    this.listener({ room, action: 'join', user });
  }

  async remove(room: string, userId: string, connectionId: string): Promise<void> {
    const entries = this.rooms.get(room);
    const entry = entries?.get(userId);
    if (entries === undefined || entry === undefined || !entry.connectionIds.delete(connectionId)) {
      return;
    }
    if (entry.connectionIds.size > 0) {
      return;
    }

    entries.delete(userId);
    if (entries.size === 0) {
      this.rooms.delete(room);
    }
    this.listener({ room, action: 'leave', user: entry.user });
  }

  async members(room: string): Promise<Member[]> {
    const entries = this.rooms.get(room);
    if (entries === undefined) {
      return [];
    }
    return [...entries.values()].map((entry) => ({
      id: entry.user.id,
      name: entry.user.name,
      devices: entry.connectionIds.size,
    }));
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }
}
