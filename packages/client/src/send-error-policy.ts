import type { ConfabErrorCode } from './confab-error.js';

/**
 * Next step of a failed send:
 * - `requeue`: wait in the outbox for the next connection, then resend under the same id;
 * - `retry_after`: resend after the server's `retryAfterMs`;
 * - `backoff`: resend after a growing random delay, because the server or network may recover;
 * - `rejoin`: the server no longer counts the connection in the room, so join again, then resend;
 * - `fail`: resending the same message cannot succeed; report it to the app.
 */
export type SendErrorAction = 'requeue' | 'retry_after' | 'backoff' | 'rejoin' | 'fail';

const ACTIONS: ReadonlyMap<ConfabErrorCode, SendErrorAction> = new Map<ConfabErrorCode, SendErrorAction>([
  ['disconnected', 'requeue'],
  ['rate_limited', 'retry_after'],
  ['unavailable', 'backoff'],
  ['internal', 'backoff'],
  ['timeout', 'backoff'],
  ['not_joined', 'rejoin'],
]);

/** Chooses the next step for a send that failed with `code`; unknown codes fail the send. */
export function classifySendError(code: ConfabErrorCode): SendErrorAction {
  return ACTIONS.get(code) ?? 'fail';
}
