import type { ConfabClient } from '@confab/client';
import { createContext } from 'react';

/** The client that `ConfabProvider` hands to the hooks below it; null outside any provider. */
export const ConfabContext = createContext<ConfabClient | null>(null);
ConfabContext.displayName = 'ConfabContext';
