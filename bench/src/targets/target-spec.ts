import type { ProtocolKind } from '../load/bench-client.js';

/** One server setup that the workloads run against. */
export interface TargetSpec {
  id: string;
  label: string;
  protocol: ProtocolKind;
  confab?: {
    store: 'memory' | 'sqlite' | 'postgres';
    sqliteSynchronous?: 'full' | 'normal';
    /** Number of nodes; two share events over Redis. */
    nodes: 1 | 2;
  };
}

export const RAW_WS: TargetSpec = { id: 'raw-ws', label: 'raw ws (ceiling)', protocol: 'raw' };
export const SOCKET_IO: TargetSpec = { id: 'socket.io', label: 'Socket.IO 4', protocol: 'socketio' };
export const CONFAB_MEMORY: TargetSpec = {
  id: 'confab-memory',
  label: 'Confab, in-memory store',
  protocol: 'confab',
  confab: { store: 'memory', nodes: 1 },
};
export const CONFAB_SQLITE_FULL: TargetSpec = {
  id: 'confab-sqlite-full',
  label: 'Confab, SQLite synchronous=full',
  protocol: 'confab',
  confab: { store: 'sqlite', sqliteSynchronous: 'full', nodes: 1 },
};
export const CONFAB_SQLITE_NORMAL: TargetSpec = {
  id: 'confab-sqlite-normal',
  label: 'Confab, SQLite synchronous=normal',
  protocol: 'confab',
  confab: { store: 'sqlite', sqliteSynchronous: 'normal', nodes: 1 },
};
export const CONFAB_POSTGRES: TargetSpec = {
  id: 'confab-postgres',
  label: 'Confab, PostgreSQL',
  protocol: 'confab',
  confab: { store: 'postgres', nodes: 1 },
};
export const CONFAB_CLUSTER: TargetSpec = {
  id: 'confab-2-nodes-redis',
  label: 'Confab, 2 nodes over Redis (PostgreSQL)',
  protocol: 'confab',
  confab: { store: 'postgres', nodes: 2 },
};

/** Every target, in the order the tables list them. */
export const ALL_TARGETS: TargetSpec[] = [
  RAW_WS,
  SOCKET_IO,
  CONFAB_MEMORY,
  CONFAB_SQLITE_FULL,
  CONFAB_SQLITE_NORMAL,
  CONFAB_POSTGRES,
  CONFAB_CLUSTER,
];
