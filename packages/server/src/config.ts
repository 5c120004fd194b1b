import { DEFAULT_LIMITS } from '@confab/protocol';

/** Every setting of a Confab server. `resolveConfig` fills the ones a caller leaves out. */
export interface ServerConfig {
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** SQLite database file, or `:memory:` for a log that lasts only as long as the process. */
  databasePath: string;
  /** PostgreSQL connection string; when set, PostgreSQL stores the log instead of SQLite. */
  databaseUrl: string | undefined;
  /** Redis connection string; when set, nodes share events, presence and rate limits through it. */
  redisUrl: string | undefined;
  /** PostgreSQL schema of the log; every node of one cluster must use the same. */
  databaseSchema: string;
  /** Prefix of every Redis key and channel; every node of one cluster must use the same. */
  redisKeyPrefix: string;
  /** A node that stops renewing its presence lease for this long is treated as dead, in milliseconds. */
  presenceLeaseTtlMs: number;
  /** SQLite `synchronous` pragma: `full` survives power loss, `normal` survives a process crash. */
  sqliteSynchronous: 'full' | 'normal';
  /** HMAC secret for HS256, HS384 or HS512 tokens. */
  jwtSecret: string | undefined;
  /** PEM public key (SPKI) for RS*, PS*, ES* or EdDSA tokens, chosen by the key's type. */
  jwtPublicKey: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  /** Whether guests may sign in with a display name. Undefined: allowed when no JWT key is set. */
  allowGuests: boolean | undefined;
  /** Origins allowed to open a WebSocket besides the server's own; `*` allows any. */
  allowedOrigins: string[];
  /** Directory of the built web UI served at `/`; undefined serves a short page instead. */
  webRoot: string | undefined;
  /** Identifies this node in logs and in the cluster. */
  nodeId: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  maxFrameBytes: number;
  maxContentCodePoints: number;
  maxRoomsPerConnection: number;
  maxConnectionsPerUser: number;
  historyMaxLimit: number;
  historyDefaultLimit: number;
  typingTimeoutMs: number;
  sendRatePerSecond: number;
  sendBurst: number;
  /** A connection must authenticate within this many milliseconds of opening. */
  authTimeoutMs: number;
  pingIntervalMs: number;
  /** A peer with no pong within this many milliseconds of a ping is dropped. */
  pingTimeoutMs: number;
  /** Bytes queued for one connection above which typing and presence events are dropped. */
  sendBufferSoftBytes: number;
  /** Bytes queued for one connection above which it is closed with `slowConsumer` at once. */
  sendBufferHardBytes: number;
  /** A connection whose queue stays above the soft cap this long is closed with `slowConsumer`. */
  slowConsumerGraceMs: number;
  /** Invalid frames a connection may send in a burst before it is closed with 1008. */
  invalidFrameBurst: number;
  /** How long shutdown waits for writes under way before closing the store, in milliseconds. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  databasePath: './data/confab.db',
  databaseUrl: undefined,
  redisUrl: undefined,
  databaseSchema: 'confab',
  redisKeyPrefix: 'confab:',
  presenceLeaseTtlMs: 15_000,
  sqliteSynchronous: 'full',
  jwtSecret: undefined,
  jwtPublicKey: undefined,
  jwtIssuer: undefined,
  jwtAudience: undefined,
  allowGuests: undefined,
  allowedOrigins: [],
  webRoot: undefined,
  nodeId: 'node-1',
  logLevel: 'info',
  maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
  maxContentCodePoints: DEFAULT_LIMITS.maxContentCodePoints,
  maxRoomsPerConnection: DEFAULT_LIMITS.maxRoomsPerConnection,
  maxConnectionsPerUser: DEFAULT_LIMITS.maxConnectionsPerUser,
  historyMaxLimit: DEFAULT_LIMITS.historyMaxLimit,
  historyDefaultLimit: DEFAULT_LIMITS.historyDefaultLimit,
  typingTimeoutMs: DEFAULT_LIMITS.typingTimeoutMs,
  sendRatePerSecond: DEFAULT_LIMITS.sendRatePerSecond,
  sendBurst: DEFAULT_LIMITS.sendBurst,
  authTimeoutMs: 5000,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  sendBufferSoftBytes: 1024 * 1024,
  sendBufferHardBytes: 8 * 1024 * 1024,
  slowConsumerGraceMs: 10_000,
  invalidFrameBurst: 20,
  shutdownTimeoutMs: 10_000,
};

/** Fill the settings a caller leaves out with the defaults. */
export function resolveConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) {
      (config as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return config;
}

/** Returns whether guests may sign in under this configuration. */
export function guestsAllowed(config: ServerConfig): boolean {
  if (config.allowGuests !== undefined) {
    return config.allowGuests;
  }
  return config.jwtSecret === undefined && config.jwtPublicKey === undefined;
}
