import type { ConfabClient } from '@confab/client';
import { createElement, type ReactNode } from 'react';

import { ConfabContext } from './confab-context.js';

export interface ConfabProviderProps {
  /** The client the hooks below use. The app creates it, calls `connect()` and `close()`. */
  client: ConfabClient;
  children?: ReactNode;
}

/**
 * Makes a `ConfabClient` available to `useConfabClient`, `useConnectionState` and `useRoom`.
 * The provider does not connect or close the client: create it once (outside render, or in a
 * `useState` initializer) and own its lifecycle, so that StrictMode's double effects cannot
 * open a second connection.
 *
 * @example
 * const client = new ConfabClient({ url: 'ws://127.0.0.1:8080/ws', guestName: 'alice' });
 * client.connect();
 * root.render(<ConfabProvider client={client}><App /></ConfabProvider>);
 */
export function ConfabProvider({ client, children }: ConfabProviderProps): ReactNode {
  // createElement rather than JSX, so that the source runs under any JSX transform (tsx in tests).
  return createElement(ConfabContext.Provider, { value: client }, children);
}
