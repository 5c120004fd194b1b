import type { ErrorCode } from './error-codes.js';
import type { Member, RoomEvent, UserRef } from './events.js';
import type { ServerLimits } from './limits.js';

/** Reply to `auth`: the session is open. */
export interface WelcomeFrame {
  type: 'welcome';
  requestId: string;
  protocol: string;
  sessionId: string;
  user: UserRef & { guest: boolean };
  /** Identifies the server's message log; a client that resumes sends it back as `epoch`. */
  epoch: string;
  limits: ServerLimits;
  /** Interval at which the server sends WebSocket pings, in milliseconds. */
  pingIntervalMs: number;
}

/** Reply to `join`. Missed events (when `since` was given) follow it as `event` frames. */
export interface JoinedFrame {
  type: 'joined';
  requestId: string;
  room: string;
  /** Seq of the room's latest event when the join took effect; 0 for an empty room. */
  headSeq: number;
  /**
   * True when events after `since` follow. False when no `since` was given, or when the client's
   * cursor does not belong to this log (another epoch, or a seq past the head). In that case the
   * client must drop what it has for the room and reload it from history.
   */
  resumed: boolean;
  members: Member[];
}

export interface LeftFrame {
  type: 'left';
  requestId: string;
  room: string;
}

/** Acknowledgement of `send`: the event is stored durably. */
export interface SentFrame {
  type: 'sent';
  requestId: string;
  room: string;
  seq: number;
  messageId: string;
  timestamp: number;
  /** True when an earlier send with the same `clientMessageId` had already stored the message. */
  duplicate: boolean;
}

export interface HistoryFrame {
  type: 'history';
  requestId: string;
  room: string;
  /** Events in ascending seq order. */
  events: RoomEvent[];
  /** Whether more events exist beyond this page, in the direction that was requested. */
  hasMore: boolean;
}

export interface PongFrame {
  type: 'pong';
  requestId: string;
  serverTime: number;
}

/** A new event in a room that the connection has joined. */
export interface EventFrame {
  type: 'event';
  event: RoomEvent;
}

/** A user's first connection entered the room, or their last one left it. */
export interface PresenceFrame {
  type: 'presence';
  room: string;
  action: 'join' | 'leave';
  user: UserRef;
}

/** The room's whole member list, sent again after presence events were dropped for a slow reader. */
export interface MembersFrame {
  type: 'members';
  room: string;
  members: Member[];
}

export interface TypingFrame {
  type: 'typing';
  room: string;
  user: UserRef;
  typing: boolean;
}

export interface ErrorFrame {
  type: 'error';
  /** The request id of the frame that failed, when it had one that could be read. */
  requestId?: string;
  code: ErrorCode;
  message: string;
  /** Path of the invalid field, for `invalid_field`. */
  field?: string;
  /** How long to wait before retrying, for `rate_limited`. */
  retryAfterMs?: number;
}

export type ServerFrame =
  | WelcomeFrame
  | JoinedFrame
  | LeftFrame
  | SentFrame
  | HistoryFrame
  | PongFrame
  | EventFrame
  | PresenceFrame
  | MembersFrame
  | TypingFrame
  | ErrorFrame;

export type ServerFrameType = ServerFrame['type'];
