/** The settings of one Confab node that the suite passes to its child process. */
export interface ConfabNodeConfig {
  store: 'memory' | 'sqlite' | 'postgres';
  /** SQLite file for the `sqlite` store. */
  databasePath?: string;
  sqliteSynchronous?: 'full' | 'normal';
  /** PostgreSQL connection string and schema for the `postgres` store. */
  databaseUrl?: string;
  postgresSchema?: string;
  redisUrl?: string;
  nodeId: string;
}

/** Environment variable that carries a `ConfabNodeConfig` as JSON to the child. */
export const CONFAB_NODE_CONFIG_ENV = 'CONFAB_BENCH_NODE';

/**
 * Per-user send rate and burst of the benchmark nodes. The default (10/s, burst 20) would make the
 * rate limiter the thing measured, since one publisher sends hundreds of messages per second.
 */
export const BENCH_SEND_RATE_PER_SECOND = 1_000_000;
export const BENCH_SEND_BURST = 1_000_000;
