import type { UserRef } from '@confab/protocol';

export interface TypingChange {
  room: string;
  user: UserRef;
  typing: boolean;
}

export type TypingListener = (change: TypingChange) => void;

/**
 * Typing indicators, per user and room. A start expires by itself after the timeout unless renewed.
 * The listener receives each transition once: started, then stopped by request, expiry, disconnect,
 * leave or a sent message.
 */
export interface TypingService {
  start(listener: TypingListener): Promise<void>;
  setTyping(room: string, user: UserRef, connectionId: string, typing: boolean): void;
  /** Clears the user's typing in the room if this connection set it. */
  clearConnection(room: string, userId: string, connectionId: string): void;
  close(): Promise<void>;
}
