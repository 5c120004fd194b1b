import type { ConfabError } from '@confab/client';

/**
 * Turns an SDK error into a phrase for the UI. The code picks the wording, and codes without their
 * own wording show the error's message.
 */
export function describeError(error: ConfabError | undefined | null): string {
  if (error === undefined || error === null) {
    return 'unknown error';
  }
  switch (error.code) {
    case 'too_large':
      return 'the message is longer than this server allows';
    case 'forbidden':
      return 'you do not have access to this room';
    case 'rate_limited':
      return 'you are sending too fast; wait a moment and retry';
    case 'unauthorized':
      return 'the server rejected the token; check it or ask your operator for a new one';
    case 'token_expired':
      return 'the token has expired; paste a new one';
    case 'guests_disabled':
      return 'this server does not allow guests; sign in with a token';
    case 'closed':
      return 'the connection was closed before the server stored it';
    case 'too_many_rooms':
      return 'you have joined as many rooms as the server allows; leave one first';
    case 'too_many_connections':
      return 'you have too many tabs or devices connected; close one and reconnect';
    default:
      return error.message;
  }
}
