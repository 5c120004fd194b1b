import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { clusterSkipReason, deleteKeys, dropSchema, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueKeyPrefix, uniqueSchemaName } from './support/cluster-backends.js';
import { canListen } from './support/private-redis.js';
import { waitUntil } from './support/test-cluster.js';

const TEST_TIMEOUT_MS = 90_000;
const COMMAND_PATH = fileURLToPath(new URL('../dist/cluster/run-local-cluster.js', import.meta.url));
const skip = await clusterSkipReason();

describe('npm run cluster', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('starts, prints and stops every node', { timeout: TEST_TIMEOUT_MS }, async () => {
    const schema = uniqueSchemaName();
    const prefix = uniqueKeyPrefix();
    const basePort = await freePortPair();
    const child = spawn(
      process.execPath,
      [COMMAND_PATH, '--nodes', '2', '--base-port', String(basePort), '--database-url', TEST_DATABASE_URL, '--redis-url', TEST_REDIS_URL, '--log-level', 'warn'],
      { env: { ...process.env, CONFAB_DATABASE_SCHEMA: schema, CONFAB_REDIS_KEY_PREFIX: prefix }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = once(child, 'exit');
    try {
      await waitUntil('the cluster summary', () => output.includes('Press Ctrl+C to stop them all.'), 60_000);

      for (const port of [basePort, basePort + 1]) {
        assert.match(output, new RegExp(`ws://127\\.0\\.0\\.1:${port}/ws`));
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(response.status, 200, `node on port ${port} is ready`);
        await response.body?.cancel();
      }

      child.kill('SIGINT');
      const [code] = await exited;
      assert.equal(code, 0, output);
      assert.match(output, /All nodes stopped\./);
      for (const port of [basePort, basePort + 1]) {
        await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), `port ${port} is closed`);
      }
    } finally {
      child.kill('SIGKILL');
      await dropSchema(schema);
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
  });
});

/**
 * Two free consecutive ports below Linux's ephemeral range (32768 and up), where the outgoing
 * connections of tests running beside this one cannot take the second port between probe and use.
 */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await canListen(base)) && (await canListen(base + 1))) {
      return base;
    }
  }
  throw new Error('found no two free consecutive ports between 20000 and 32000');
}
