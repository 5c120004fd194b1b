import type { ErrorCode } from '@confab/protocol';

/**
 * Error codes that only the client produces, for failures that never reach the server. They are
 * kept apart from the protocol's catalog because no server sends them.
 */
export const CLIENT_ERROR_CODES = {
  /** No reply arrived within `requestTimeoutMs`. */
  timeout: 'timeout',
  /** The connection dropped before the reply arrived. */
  disconnected: 'disconnected',
  /** The app closed the client or left the room while the request was pending. */
  closed: 'closed',
  /** Events were missing from the room's log and could not be fetched, so they were skipped. */
  sequence_gap: 'sequence_gap',
  /** The token function threw or returned something other than a non-empty string. */
  token_unavailable: 'token_unavailable',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** Every code a `ConfabError` can carry: the protocol's codes plus the client's own. */
export type ConfabErrorCode = ErrorCode | ClientErrorCode;

export interface ConfabErrorDetails {
  /** How long to wait before retrying, from the server's `rate_limited` error. */
  retryAfterMs?: number;
  /** Path of the invalid field, from the server's `invalid_field` error. */
  field?: string;
  cause?: unknown;
}

/** A failure of the SDK or of a request, with a stable `code` to branch on. */
export class ConfabError extends Error {
  readonly code: ConfabErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly field: string | undefined;

  constructor(code: ConfabErrorCode, message: string, details: ConfabErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfabError';
    this.code = code;
    this.retryAfterMs = details.retryAfterMs;
    this.field = details.field;
  }
}
