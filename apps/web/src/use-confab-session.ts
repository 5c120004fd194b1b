import { ConfabClient, type ConfabError, type ConnectionState, type SessionUser } from '@confab/client';
import { FATAL_AUTH_ERROR_CODES, type ErrorCode } from '@confab/protocol';
import { useEffect, useRef, useState } from 'react';

import { loadGuestKey } from './guest-key';
import type { Credentials } from './saved-session';
import { websocketUrl } from './websocket-url';

/** Fields of the auth frame whose rejection means the user must sign in differently. */
const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set(['token', 'guest', 'guest.name']);

export interface ConfabSession {
  /** Null until the effect that opens the connection has run. */
  client: ConfabClient | null;
  state: ConnectionState;
  /** The user from the latest `welcome`, or null before it. */
  user: SessionUser | null;
}

/**
 * Opens a client for the credentials and keeps it until they change or the component unmounts.
 * `onCredentialsRejected` is called when the server rejects the credentials, which retrying
 * cannot fix.
 */
export function useConfabSession(
  credentials: Credentials,
  onCredentialsRejected: (error: ConfabError) => void,
): ConfabSession {
  const [session, setSession] = useState<ConfabSession>({ client: null, state: 'disconnected', user: null });
  const guestName = credentials.kind === 'guest' ? credentials.name : undefined;
  const token = credentials.kind === 'token' ? credentials.token : undefined;
  const onRejectedRef = useRef(onCredentialsRejected);

  useEffect(() => {
    onRejectedRef.current = onCredentialsRejected;
  });

  useEffect(() => {
    // The client is created inside the effect, so React's StrictMode double run closes the first
    // one instead of leaking it.
    const url = websocketUrl(window.location);
    const client = new ConfabClient(token === undefined ? { url, guestName, guestKey: loadGuestKey() } : { url, token });
    const update = () => setSession({ client, state: client.state, user: client.user });

    const removeStateListener = client.on('state', update);
    const removeWelcomeListener = client.on('welcome', update);
    const removeErrorListener = client.on('error', (error) => {
      if (rejectsCredentials(error)) {
        onRejectedRef.current(error);
      }
    });
    client.connect();
    update();

    return () => {
      removeStateListener();
      removeWelcomeListener();
      removeErrorListener();
      client.close();
    };
  }, [guestName, token]);

  return session;
}

function rejectsCredentials(error: ConfabError): boolean {
  if (FATAL_AUTH_ERROR_CODES.has(error.code as ErrorCode)) {
    return true;
  }
  return error.code === 'invalid_field' && error.field !== undefined && CREDENTIAL_FIELDS.has(error.field);
}
