/**
 * One Confab node for the benchmark, started with `startServer` from @confab/server and the store
 * that the suite names in the CONFAB_BENCH_NODE environment variable.
 */
import { startServer, type MessageStore, type ServerServices } from '@confab/server';

import { notifyParent, serveParentRequests } from '../ipc-peer.js';
import { BENCH_JWT_SECRET } from '../load/jwt-signer.js';
import {
  BENCH_SEND_BURST,
  BENCH_SEND_RATE_PER_SECOND,
  CONFAB_NODE_CONFIG_ENV,
  type ConfabNodeConfig,
} from './confab-node-config.js';

const config = JSON.parse(process.env[CONFAB_NODE_CONFIG_ENV] ?? '{}') as ConfabNodeConfig;

type StoreModule = Record<string, new (options: never) => MessageStore>;

/**
 * Loads a store class that @confab/server builds but does not export from its index, from the
 * compiled file next to the index.
 */
async function loadStoreClass(fileName: string, className: string): Promise<new (options: never) => MessageStore> {
  const exported = (await import('@confab/server')) as unknown as StoreModule;
  const fromIndex = exported[className];
  if (fromIndex !== undefined) {
    return fromIndex;
  }
  const indexUrl = import.meta.resolve('@confab/server');
  const module = (await import(new URL(`./store/${fileName}`, indexUrl).href)) as StoreModule;
  const found = module[className];
  if (found === undefined) {
    throw new Error(`@confab/server has no ${className} in dist/store/${fileName}; build the server first`);
  }
  return found;
}

async function createStore(): Promise<MessageStore | undefined> {
  if (config.store === 'memory') {
    const MemoryStore = await loadStoreClass('memory-store.js', 'MemoryStore');
    return new MemoryStore(undefined as never);
  }
  if (config.store === 'postgres') {
    const PostgresStore = await loadStoreClass('postgres-store.js', 'PostgresStore');
    return new PostgresStore({
      connectionString: config.databaseUrl,
      schema: config.postgresSchema,
    } as never);
  }
  // SQLite is what createServices builds from databasePath and sqliteSynchronous.
  return undefined;
}

const store = await createStore();
const services: Partial<ServerServices> = store === undefined ? {} : { store };
const server = await startServer(
  {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    nodeId: config.nodeId,
    jwtSecret: BENCH_JWT_SECRET,
    databasePath: config.databasePath ?? ':memory:',
    sqliteSynchronous: config.sqliteSynchronous ?? 'full',
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    sendRatePerSecond: BENCH_SEND_RATE_PER_SECOND,
    sendBurst: BENCH_SEND_BURST,
  },
  services,
);
notifyParent('ready', { port: server.port, epoch: server.services.store.epoch });

serveParentRequests({
  gc: () => globalThis.gc?.(),
  stop: async () => {
    await server.close();
    setImmediate(() => process.exit(0));
  },
});
