import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';

import pg from 'pg';
import { createClient } from 'redis';

/** PostgreSQL of the test machine: trust auth, database `test`. */
export const TEST_DATABASE_URL = process.env['CONFAB_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Redis of the test machine. Tests never restart it; they start a private one for that. */
export const TEST_REDIS_URL = process.env['CONFAB_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

const PROBE_TIMEOUT_MS = 3000;

/**
 * Returns false when the needed services respond, else the reason to skip a cluster test.
 * Under CI (`CI=true`) a missing service is an error instead: the test fails rather than skips.
 */
export async function clusterSkipReason(needs: { postgres?: boolean; redis?: boolean } = { postgres: true, redis: true }): Promise<string | false> {
  const problems: string[] = [];
  if (needs.postgres === true) {
    const problem = await probePostgres();
    if (problem !== undefined) {
      problems.push(`PostgreSQL at ${TEST_DATABASE_URL} is unreachable (${problem})`);
    }
  }
  if (needs.redis === true) {
    const problem = await probeRedis();
    if (problem !== undefined) {
      problems.push(`Redis at ${TEST_REDIS_URL} is unreachable (${problem})`);
    }
  }
  if (problems.length === 0) {
    return false;
  }
  const reason = `${problems.join('; ')}: start it to run the cluster tests`;
  if (process.env['CI'] === 'true') {
    throw new Error(`${reason} (CI=true, so this is a failure, not a skip)`);
  }
  return reason;
}

/**
 * Returns false when `program` is on the PATH, else the reason to skip a test that runs it. Under
 * CI (`CI=true`) a missing program is an error instead.
 */
export function programSkipReason(program: string, purpose: string): string | false {
  const directories = (process.env['PATH'] ?? '').split(delimiter);
  if (directories.some((directory) => directory !== '' && existsSync(join(directory, program)))) {
    return false;
  }
  const reason = `${program} is not installed; it is needed to ${purpose}`;
  if (process.env['CI'] === 'true') {
    throw new Error(`${reason} (CI=true, so this is a failure, not a skip)`);
  }
  return reason;
}

/** Returns a schema name of its own for one test run. */
export function uniqueSchemaName(): string {
  return `confab_test_${randomBytes(6).toString('hex')}`;
}

/** Returns a Redis key prefix of its own for one test run. */
export function uniqueKeyPrefix(): string {
  return `confab-test:${randomBytes(6).toString('hex')}:`;
}

export async function dropSchema(schema: string, databaseUrl = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes every key under a prefix (tests use prefixes of their own). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) {
        await client.del(keys);
      }
    }
  } finally {
    client.destroy();
  }
}

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(): Promise<string | undefined> {
  const url = new URL(TEST_REDIS_URL);
  const port = Number(url.port || '6379');
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname, port });
    const timer = setTimeout(() => finish('timed out'), PROBE_TIMEOUT_MS);
    let reply = '';
    function finish(problem: string | undefined): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    }
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        finish(reply.startsWith('+PONG') ? undefined : `unexpected reply ${JSON.stringify(reply.trim())}`);
      }
    });
    socket.on('error', (error) => finish(error.message));
  });
}
