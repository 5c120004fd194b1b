import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { startCliServer } from './support/cli-process.js';
import { acksOf, readWholeRoom, sendUntilClosed, seqRange } from './support/message-traffic.js';
import { TestClient } from './support/test-client.js';
import { sleep, startTestServerIn } from './support/test-server.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 60_000;
const SENDERS = 3;
/** Acknowledged messages to wait for before the kill, so the kill lands mid-traffic. */
const ACKS_BEFORE_KILL = 300;

describe('crash', () => {
  test('SIGKILL mid-traffic: acked messages kept', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-crash-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const cli = await startCliServer([
      '--port', '0',
      '--database', join(directory, 'confab.db'),
      '--log-level', 'warn',
      '--send-rate-per-second', '100000',
      '--send-burst', '100000',
    ]);
    t.after(() => {
      cli.child.kill('SIGKILL');
    });

    const clients: TestClient[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const client = await TestClient.guest(cli.url, `Sender ${i}`);
      await client.join('lobby');
      clients.push(client);
    }
    const loops = clients.map((client, index) => sendUntilClosed(client, 'lobby', `c${index}`));
    const deadline = Date.now() + 20_000;
    while (clients.reduce((sum, client) => sum + acksOf(client).length, 0) < ACKS_BEFORE_KILL && Date.now() < deadline) {
      await sleep(5);
    }

    cli.child.kill('SIGKILL');
    const exit = await cli.exited;
    await Promise.all(clients.map((client) => client.waitForClose()));
    await Promise.all(loops);

    const restarted = await startTestServerIn(directory);
    t.after(() => restarted.server.close());
    const reader = await TestClient.guest(restarted.server.url, 'Reader');
    await reader.join('lobby');
    const stored = await readWholeRoom(reader, 'lobby');
    const next = await reader.sendMessage('lobby', 'after the crash');

    const acks = clients.flatMap(acksOf);
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(acks.length >= ACKS_BEFORE_KILL, `precondition: ${acks.length} messages were acked before the kill`);
    assert.deepEqual(stored.map((event) => event.seq), seqRange(1, stored.length), 'stored seqs are gap-free from 1');
    assert.equal(new Set(stored.map((event) => event.clientMessageId)).size, stored.length, 'no message stored twice');

    const storedById = new Map(stored.map((event) => [event.id, event]));
    for (const ack of acks) {
      assert.equal(storedById.get(ack.messageId)?.seq, ack.seq, `acked seq ${ack.seq} is stored at that seq`);
    }
    for (let index = 0; index < SENDERS; index++) {
      const own = stored
        .filter((event) => event.clientMessageId.startsWith(`c${index}-`))
        .map((event) => Number(event.clientMessageId.slice(`c${index}-`.length)));
      assert.deepEqual(own, [...own].sort((a, b) => a - b), `sender ${index} messages keep their send order`);
    }
    assert.equal(next.seq, stored.length + 1, 'the log continues after the last stored seq');
  });
});
