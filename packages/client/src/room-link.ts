import type {
  ClientFrame,
  HistoryFrame,
  JoinedFrame,
  LeftFrame,
  PongFrame,
  SentFrame,
  ServerLimits,
  TypingRequestFrame,
  UserRef,
} from '@confab/protocol';

import type { BackoffPolicy } from './backoff.js';
import type { Logger } from './logger.js';

type WithoutRequestId<F> = F extends unknown ? Omit<F, 'requestId'> : never;

/** A request the client can send, without the `requestId` the client assigns. */
export type RequestFrame = WithoutRequestId<Exclude<ClientFrame, { type: 'auth' } | { type: 'typing' }>>;

interface Replies {
  join: JoinedFrame;
  leave: LeftFrame;
  send: SentFrame;
  history: HistoryFrame;
  ping: PongFrame;
}

/** The reply frame the server sends for a request of type `T`. */
export type ReplyTo<T extends RequestFrame['type']> = Replies[T];

/** The signed-in user, from `welcome`. */
export interface SessionUser extends UserRef {
  guest: boolean;
}

/** Settings of a room's behaviour, taken from the client's options. */
export interface RoomSettings {
  initialHistoryLimit: number;
  typingRenewIntervalMs: number;
  typingIdleMs: number;
  /** Added to the server's `typingTimeoutMs` before a remote typing start expires locally. */
  typingLeewayMs: number;
  sendRetry: BackoffPolicy;
}

/** The client's side of a `Room`, implemented by `ConfabClient`. */
export interface RoomLink {
  /** True between `welcome` and the end of the socket. */
  readonly connected: boolean;
  readonly user: SessionUser | null;
  readonly limits: ServerLimits;
  /** Epoch of the current session's `welcome`, or null before the first one. */
  readonly epoch: string | null;
  readonly settings: RoomSettings;
  readonly logger: Logger;
  request<F extends RequestFrame>(frame: F, onReply?: (reply: ReplyTo<F['type']>) => void): Promise<ReplyTo<F['type']>>;
  /** Sends a frame that gets no reply. */
  notify(frame: TypingRequestFrame): void;
  /** Called when the room's last holder left it. */
  release(name: string): void;
}
