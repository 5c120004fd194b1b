export { Backoff, DEFAULT_BACKOFF_POLICY, type BackoffPolicy } from './backoff.js';
export {
  DEFAULT_INITIAL_HISTORY_LIMIT,
  DEFAULT_RECONNECT_OPTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SEND_RETRY,
  DEFAULT_TYPING_IDLE_MS,
  DEFAULT_TYPING_LEEWAY_MS,
  DEFAULT_TYPING_RENEW_INTERVAL_MS,
  type ConfabClientOptions,
  type ReconnectOptions,
  type TokenSource,
} from './client-options.js';
export { ConfabClient, type ConfabClientEvents } from './confab-client.js';
export {
  CLIENT_ERROR_CODES,
  ConfabError,
  type ClientErrorCode,
  type ConfabErrorCode,
  type ConfabErrorDetails,
} from './confab-error.js';
export type { ConnectionState, ConnectionStateChange } from './connection-state.js';
export { EventSequencer, type SequenceGap } from './event-sequencer.js';
export { SILENT_LOGGER, type Logger } from './logger.js';
export { applyPresence } from './member-list.js';
export { Outbox, type OutboxAction, type OutboxEntry, type OutboxStatus } from './outbox.js';
export type { SessionUser } from './room-link.js';
export { Room, type RoomEvents, type RoomSnapshot, type RoomStatus } from './room.js';
export { classifySendError, type SendErrorAction } from './send-error-policy.js';
export type { PendingMessage, SendAck } from './send-queue.js';
export { TypedEmitter } from './typed-emitter.js';
export { TypingThrottle, type TypingSignal, type TypingThrottleOptions } from './typing-throttle.js';
export { TypingTracker } from './typing-tracker.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket-constructor.js';
export type { Member, MessageEvent, RoomEvent, ServerLimits, UserRef } from '@confab/protocol';
