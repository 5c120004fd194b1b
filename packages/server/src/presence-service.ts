import type { Member, UserRef } from '@confab/protocol';

/** A user's first connection entered a room, or their last one left it, on any node. */
export interface PresenceChange {
  room: string;
  action: 'join' | 'leave';
  user: UserRef;
}

export type PresenceListener = (change: PresenceChange) => void;

/**
 * Room membership of users, counted by connection so that a user with several tabs or devices is
 * one member. Changes are reported to the listener only on a user's first join and last leave.
 */
export interface PresenceService {
  start(listener: PresenceListener): Promise<void>;
  add(room: string, user: UserRef, connectionId: string): Promise<void>;
  remove(room: string, userId: string, connectionId: string): Promise<void>;
  members(room: string): Promise<Member[]>;
  close(): Promise<void>;
}
