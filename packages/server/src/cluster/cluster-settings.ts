import { DEFAULT_POSTGRES_SCHEMA } from '../store/postgres-store.js';
import { DEFAULT_PRESENCE_LEASE_TTL_MS } from './redis-presence.js';

/** The settings of cluster mode that `ServerConfig` carries besides the two URLs. */
export interface ClusterSettings {
  /** PostgreSQL schema of the log; every node of one cluster must use the same. */
  databaseSchema: string;
  /** Prefix of every Redis key and channel; every node of one cluster must use the same. */
  redisKeyPrefix: string;
  /** A node that stops renewing its presence lease for this long is treated as dead. */
  presenceLeaseTtlMs: number;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = {
  databaseSchema: DEFAULT_POSTGRES_SCHEMA,
  redisKeyPrefix: 'confab:',
  presenceLeaseTtlMs: DEFAULT_PRESENCE_LEASE_TTL_MS,
};
