import type { ConnectionState } from '@confab/client';
import { useCallback, useSyncExternalStore } from 'react';

import { useConfabClient } from './use-confab-client.js';

/** Returns the client's connection state and re-renders on every change. */
export function useConnectionState(): ConnectionState {
  const client = useConfabClient();
  const subscribe = useCallback((onChange: () => void) => client.on('state', onChange), [client]);
  const getState = useCallback(() => client.state, [client]);
  return useSyncExternalStore(subscribe, getState, getState);
}
