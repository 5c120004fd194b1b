import type { BackoffPolicy } from './backoff.js';
import type { Logger } from './logger.js';
import type { WebSocketConstructor } from './websocket-constructor.js';

/** A JWT, or a function returning one; the function is called before every connection attempt. */
export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions extends BackoffPolicy {
  /** A connection that stays up this long resets the backoff to its first delay, in milliseconds. */
  stableAfterMs: number;
}

export interface ConfabClientOptions {
  /** WebSocket endpoint, such as `ws://127.0.0.1:8080/ws`. */
  url: string;
  /** Credentials for servers that verify JWTs. */
  token?: TokenSource;
  /** Display name for guest sign-in, used when no `token` is given. */
  guestName?: string;
  /**
   * Secret that fixes the guest's user id (16 to 128 characters of A-Z, a-z, 0-9, `_` and `-`).
   * Defaults to a random key per client, which keeps one id across reconnects. Persist a key (for
   * example in localStorage) to keep the id across page reloads too. Treat it like a token.
   */
  guestKey?: string;
  /** WebSocket class; defaults to the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** `false` turns automatic reconnection off. */
  reconnect?: false | Partial<ReconnectOptions>;
  /** A request with no reply after this many milliseconds fails with `timeout`. */
  requestTimeoutMs?: number;
  /**
   * After this many milliseconds without a frame from the server the client sends a ping, and a
   * ping with no pong within `requestTimeoutMs` drops the connection. Defaults to the server's
   * `pingIntervalMs`.
   */
  heartbeatIntervalMs?: number;
  /** Messages loaded when a room is first joined or reloaded. */
  initialHistoryLimit?: number;
  /** While the user keeps typing, a typing start is sent again after this many milliseconds. */
  typingRenewIntervalMs?: number;
  /** A typing stop is sent after this many milliseconds without a keystroke. */
  typingIdleMs?: number;
  /** Added to the server's `typingTimeoutMs` before a remote user's typing expires locally. */
  typingLeewayMs?: number;
  /** Backoff of resends after `unavailable`, `internal` or a timeout. */
  sendRetry?: Partial<BackoffPolicy>;
  logger?: Logger;
}

export const DEFAULT_RECONNECT_OPTIONS: ReconnectOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 5_000,
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_INITIAL_HISTORY_LIMIT = 50;
/** Below the server's default 5 s typing timeout, so a start is renewed before it expires. */
export const DEFAULT_TYPING_RENEW_INTERVAL_MS = 3_000;
export const DEFAULT_TYPING_IDLE_MS = 3_000;
/** Covers clock drift and network delay between the server's expiry and the local one. */
export const DEFAULT_TYPING_LEEWAY_MS = 1_000;
export const DEFAULT_SEND_RETRY: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 10_000 };
