/** WebSocket subprotocol that a client offers and the server selects for protocol v1. */
export const PROTOCOL_VERSION = 'confab.v1';

/** Path of the WebSocket endpoint on the HTTP server. */
export const WEBSOCKET_PATH = '/ws';

/**
 * Default limits of protocol v1. A server may be configured with other values and reports the
 * ones in force in its `welcome` frame; a client should read them from there.
 */
export const DEFAULT_LIMITS = {
  /** Largest inbound WebSocket frame in bytes; a larger one closes the socket with 1009. */
  maxFrameBytes: 1024 * 1024,
  /** Maximum message content length, counted in Unicode code points. */
  maxContentCodePoints: 4000,
  /** Rooms that one connection may have joined at once. */
  maxRoomsPerConnection: 100,
  /** Open connections that one user may hold at once, across all devices. */
  maxConnectionsPerUser: 20,
  /** Largest page that a history request returns. */
  historyMaxLimit: 100,
  /** Page size of a history request that names no limit. */
  historyDefaultLimit: 50,
  /** A typing start expires after this many milliseconds unless renewed. */
  typingTimeoutMs: 5000,
  /** Sustained sends per second allowed to one user, shared by all of the user's connections. */
  sendRatePerSecond: 10,
  /** Sends that one user may make in a burst before the sustained rate applies. */
  sendBurst: 20,
} as const;

export interface ServerLimits {
  maxFrameBytes: number;
  maxContentCodePoints: number;
  maxRoomsPerConnection: number;
  maxConnectionsPerUser: number;
  historyMaxLimit: number;
  historyDefaultLimit: number;
  typingTimeoutMs: number;
  sendRatePerSecond: number;
  sendBurst: number;
}

/** Room names: 1 to 64 characters, ASCII letters, digits and `._:-`, starting with a letter or digit. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Client message ids: 1 to 128 characters, ASCII letters, digits and `._:-`. */
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Guest keys: 16 to 128 characters, ASCII letters, digits, `_` and `-`. */
export const GUEST_KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** Request ids: 1 to 64 characters of any kind. */
export const MAX_REQUEST_ID_LENGTH = 64;

/** Display names: 1 to 64 code points after trimming, with no control characters. */
export const MAX_DISPLAY_NAME_CODE_POINTS = 64;

/** Maximum token length accepted in an `auth` frame, in characters. */
export const MAX_TOKEN_LENGTH = 8192;
