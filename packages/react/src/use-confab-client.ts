import type { ConfabClient } from '@confab/client';
import { useContext } from 'react';

import { ConfabContext } from './confab-context.js';

/** Returns the provider's client. Throws when called outside a `ConfabProvider`. */
export function useConfabClient(): ConfabClient {
  const client = useContext(ConfabContext);
  if (client === null) {
    throw new Error('useConfabClient was called outside <ConfabProvider client={…}>; wrap the component tree in one');
  }
  return client;
}
