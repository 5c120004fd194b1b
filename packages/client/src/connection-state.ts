/**
 * State of a `ConfabClient`'s connection.
 *
 * - `disconnected`: no connection and none being attempted: before `connect()`, after `close()`,
 *   and after a fatal authentication failure.
 * - `connecting`: the first attempt after `connect()`; the socket is opening or authenticating.
 * - `connected`: the server sent `welcome`; rooms are joined and sends flow.
 * - `reconnecting`: the connection was lost or an attempt failed. The client waits a backoff
 *   delay, then opens a new socket and authenticates again. It stays in this state until `welcome`.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Payload of the client's `state` event, emitted on every transition. */
export interface ConnectionStateChange {
  oldState: ConnectionState;
  newState: ConnectionState;
}
