import type { Logger } from 'pino';

import type { Authenticator } from './authenticator.js';
import type { ServerConfig } from './config.js';
import type { Connection } from './connection.js';
import type { Heartbeat } from './heartbeat.js';
import type { PeerSocketObserver } from './peer-socket.js';
import type { RoomHub } from './room-hub.js';
import type { ServerMetrics } from './server-metrics.js';
import type { ServerServices } from './services.js';
import type { UserConnections } from './user-connections.js';

/** The state and services every connection shares with the server that accepted it. */
export interface ConnectionContext {
  readonly config: ServerConfig;
  readonly services: ServerServices;
  readonly hub: RoomHub;
  readonly authenticator: Authenticator;
  readonly userConnections: UserConnections;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** Pings every connection and drops the silent ones. */
  readonly heartbeat: Heartbeat;
  /** Counts what the connections' output policy dropped or closed. */
  readonly peerObserver: PeerSocketObserver;
  /** Called once when a connection's socket has closed. */
  connectionClosed(connection: Connection): void;
  /** Registers work that shutdown must wait for (a store write under way). */
  track<T>(work: Promise<T>): Promise<T>;
  /** Server time in milliseconds since the Unix epoch. */
  now(): number;
}
