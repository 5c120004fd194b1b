import { createConnection } from 'node:net';

import pg from 'pg';

/** How long to wait for a reply from PostgreSQL or Redis before treating it as unreachable. */
const PROBE_TIMEOUT_MS = 2000;

const DEFAULT_DATABASE_URLS = [
  'postgres://postgres@127.0.0.1:5432/test',
  'postgres://root@127.0.0.1:5432/test',
];
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The external services found for this run; a missing one comes with the reason. */
export interface BenchEnvironment {
  databaseUrl: string | undefined;
  databaseProblem: string | undefined;
  redisUrl: string | undefined;
  redisProblem: string | undefined;
}

/**
 * Finds PostgreSQL and Redis on loopback: CONFAB_BENCH_DATABASE_URL and CONFAB_BENCH_REDIS_URL
 * when set, the local defaults otherwise.
 */
export async function probeEnvironment(): Promise<BenchEnvironment> {
  const databaseCandidates =
    process.env.CONFAB_BENCH_DATABASE_URL !== undefined ? [process.env.CONFAB_BENCH_DATABASE_URL] : DEFAULT_DATABASE_URLS;
  let databaseUrl: string | undefined;
  let databaseProblem: string | undefined;
  for (const candidate of databaseCandidates) {
    try {
      await probePostgres(candidate);
      databaseUrl = candidate;
      databaseProblem = undefined;
      break;
    } catch (error) {
      databaseProblem = `PostgreSQL not reachable at ${redactPassword(candidate)}: ${describe(error)}`;
    }
  }

  const redisUrl = process.env.CONFAB_BENCH_REDIS_URL ?? DEFAULT_REDIS_URL;
  try {
    await probeRedis(redisUrl);
    return { databaseUrl, databaseProblem, redisUrl, redisProblem: undefined };
  } catch (error) {
    return {
      databaseUrl,
      databaseProblem,
      redisUrl: undefined,
      redisProblem: `Redis not reachable at ${redisUrl}: ${describe(error)}`,
    };
  }
}

async function probePostgres(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Sends PING over a plain socket and expects +PONG. */
function probeRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply within ${PROBE_TIMEOUT_MS} ms`));
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      if (data.toString().startsWith('+PONG')) {
        resolve();
      } else {
        reject(new Error(`unexpected reply ${JSON.stringify(data.toString().trim())}`));
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Drops a schema that a PostgreSQL target created. */
export async function dropPostgresSchema(connectionString: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}

function redactPassword(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
