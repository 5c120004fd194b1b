/**
 * The catalog of error codes carried by `error` frames and by rejected client promises. Codes are
 * stable: clients branch on them, never on the message text.
 */
export const ERROR_CODES = {
  /** The frame is not a JSON object with a string `type`. */
  invalid_frame: 'invalid_frame',
  /** The frame's `type` is not one that clients may send. */
  unknown_type: 'unknown_type',
  /** A field is missing, has the wrong type or value, or is not part of the frame. */
  invalid_field: 'invalid_field',
  /** The connection has not authenticated, or the token is invalid. */
  unauthorized: 'unauthorized',
  /** The token has expired; get a new one and authenticate again on a new connection. */
  token_expired: 'token_expired',
  /** Guest sign-in is disabled on this server. */
  guests_disabled: 'guests_disabled',
  /** The connection has already authenticated. */
  already_authenticated: 'already_authenticated',
  /** The user may not access this room. */
  forbidden: 'forbidden',
  /** The request needs the connection to have joined the room first. */
  not_joined: 'not_joined',
  /** The content is longer than the server's limit. */
  too_large: 'too_large',
  /** The user is sending faster than the rate limit; retry after `retryAfterMs`. */
  rate_limited: 'rate_limited',
  /** The connection has joined as many rooms as it may. */
  too_many_rooms: 'too_many_rooms',
  /** The user already has the maximum number of connections open. */
  too_many_connections: 'too_many_connections',
  /** The server cannot serve the request now (for example, its store is down); retry later. */
  unavailable: 'unavailable',
  /** An unexpected server fault; the request may be retried. */
  internal: 'internal',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Errors after which retrying the same request cannot succeed. */
export const FATAL_AUTH_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unauthorized',
  'token_expired',
  'guests_disabled',
]);
