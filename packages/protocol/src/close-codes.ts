/**
 * WebSocket close codes that the server uses. Codes below 4000 are the ones RFC 6455 defines; codes
 * from 4000 are Confab's own.
 */
export const CLOSE_CODES = {
  /** Normal closure, for example after the client asked to close. */
  normal: 1000,
  /** A frame broke the WebSocket protocol, such as a reserved opcode. */
  protocolError: 1002,
  /** A binary frame: protocol v1 carries only text frames. */
  unsupportedData: 1003,
  /** A text frame was not valid UTF-8. */
  invalidPayload: 1007,
  /** The peer kept sending invalid frames, or broke a policy. */
  policyViolation: 1008,
  /** A frame was larger than the server's `maxFrameBytes`. */
  messageTooBig: 1009,
  /** An unexpected server fault. Reconnect with backoff. */
  internalError: 1011,
  /** The server is restarting or shutting down. Reconnect with backoff and resume. */
  serviceRestart: 1012,
  /** The client did not authenticate in time. */
  authTimeout: 4001,
  /** Authentication failed. Reconnecting with the same credentials cannot succeed. */
  authFailed: 4002,
  /** The user already has the maximum number of connections open. */
  tooManyConnections: 4003,
  /** The client read too slowly and its send buffer stayed over the cap. Reconnect and resume. */
  slowConsumer: 4004,
} as const;

export type CloseCodeName = keyof typeof CLOSE_CODES;
export type CloseCode = (typeof CLOSE_CODES)[CloseCodeName];

/** Close codes after which a client should not reconnect without new credentials. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CLOSE_CODES.authFailed,
]);
