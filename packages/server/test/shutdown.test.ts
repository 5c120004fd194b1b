import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';
import { pino } from 'pino';

import { parseCliOptions, CLI_OPTIONS } from '../src/cli-options.js';
import { resolveConfig } from '../src/config.js';
import { validateConfig } from '../src/config-validation.js';
import type {
  AppendRequest,
  AppendResult,
  MessageStore,
  RangeQuery,
  RangeResult,
} from '../src/store/message-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { runCli, startCliServer } from './support/cli-process.js';
import { acksOf, readWholeRoom, sendUntilClosed, seqRange } from './support/message-traffic.js';
import { TestClient } from './support/test-client.js';
import { sleep, startTestServer, startTestServerIn, type TestServer } from './support/test-server.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 60_000;
const UNLIMITED = { sendRatePerSecond: 100_000, sendBurst: 100_000 };

/**
 * A SQLite store whose appends can be held back, so that a test can observe the server while a
 * write is under way during shutdown.
 */
class GatedStore implements MessageStore {
  waiting = 0;
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => {};

  constructor(private readonly inner: SqliteStore) {}

  get epoch(): string {
    return this.inner.epoch;
  }

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate();
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.waiting++;
    await this.gate;
    this.waiting--;
    return this.inner.append(request);
  }

  range(query: RangeQuery): Promise<RangeResult> {
    return this.inner.range(query);
  }

  headSeq(room: string): Promise<number> {
    return this.inner.headSeq(room);
  }

  check(): Promise<void> {
    return this.inner.check();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Sends an HTTP request in two parts and returns the status line of the response. */
function statusLineAfter(port: number, between: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error('no HTTP response within 5000 ms')));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      response += chunk;
      const end = response.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(response.slice(0, end));
      }
    });
    // The request line is sent first, so the server counts the connection as busy (not idle)
    // and keeps it open while it starts to shut down.
    socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n', () => {
      between().then(
        () => socket.write('Connection: close\r\n\r\n'),
        (error: unknown) => socket.destroy(error as Error),
      );
    });
  });
}

describe('shutdown', () => {
  test('close while sending: acked messages kept', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    let running: TestServer = await startTestServer(UNLIMITED);
    t.after(() => running.stop());

    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await TestClient.guest(running.server.url, `Sender ${i}`);
      await client.join('lobby');
      clients.push(client);
    }
    const loops = clients.map((client, index) => sendUntilClosed(client, 'lobby', `c${index}`));
    const deadline = Date.now() + 10_000;
    while (clients.reduce((sum, client) => sum + acksOf(client).length, 0) < 300 && Date.now() < deadline) {
      await sleep(10);
    }

    await running.server.close();
    const closes = await Promise.all(clients.map((client) => client.waitForClose()));
    await Promise.all(loops);
    running = await startTestServerIn(running.directory, UNLIMITED);
    const reader = await TestClient.guest(running.server.url, 'Reader');
    const stored = await readWholeRoom(reader, 'lobby');

    const acks = clients.flatMap(acksOf);
    assert.ok(acks.length >= 300, `precondition: ${acks.length} messages were acked before the close`);
    for (const [index, close] of closes.entries()) {
      assert.equal(close.code, CLOSE_CODES.serviceRestart, `client ${index} close code`);
    }
    const storedById = new Map(stored.map((event) => [event.id, event]));
    for (const ack of acks) {
      assert.equal(storedById.get(ack.messageId)?.seq, ack.seq, `acked seq ${ack.seq} is stored`);
    }
    assert.deepEqual(stored.map((event) => event.seq), seqRange(1, stored.length), 'stored seqs are gap-free');
    assert.equal(new Set(stored.map((event) => event.clientMessageId)).size, stored.length, 'no message stored twice');
  });

  test('/readyz 503 while shutting down', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-test-'));
    const store = new GatedStore(
      new SqliteStore({ path: join(directory, 'confab.db'), synchronous: 'full', logger: pino({ level: 'silent' }) }),
    );
    const running = await startTestServerIn(directory, {}, { store });
    t.after(async () => {
      store.release();
      await running.stop();
    });

    const client = await TestClient.guest(running.server.url, 'Ada');
    await client.join('lobby');
    const ready = await statusLineAfter(running.server.port, async () => {});
    assert.equal(ready, 'HTTP/1.1 200 OK');

    store.hold();
    const heldSend = client.request({ type: 'send', room: 'lobby', clientMessageId: 'held', content: 'held back' });
    while (store.waiting === 0) {
      await sleep(5);
    }
    let closing: Promise<void> | undefined;
    const duringShutdown = await statusLineAfter(running.server.port, async () => {
      await sleep(50);
      closing = running.server.close();
    });
    store.release();
    const heldReply = await heldSend;
    await closing;
    const close = await client.waitForClose();

    assert.equal(duringShutdown, 'HTTP/1.1 503 Service Unavailable');
    assert.equal(heldReply.type, 'sent', 'the write under way finished and was acknowledged');
    assert.equal(close.code, CLOSE_CODES.serviceRestart);

    const reopened = await startTestServerIn(directory);
    t.after(() => reopened.stop());
    const reader = await TestClient.guest(reopened.server.url, 'Reader');
    const stored = await readWholeRoom(reader, 'lobby');
    assert.deepEqual(stored.map((event) => event.clientMessageId), ['held']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`CLI: ${signal} exits 0`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const directory = mkdtempSync(join(tmpdir(), 'confab-cli-'));
      t.after(() => rmSync(directory, { recursive: true, force: true }));
      const cli = await startCliServer(['--port', '0', '--database', join(directory, 'confab.db'), '--log-level', 'warn']);
      t.after(() => {
        cli.child.kill('SIGKILL');
      });

      const client = await TestClient.guest(cli.url, 'Ada');
      await client.join('lobby');
      const ack = await client.sendMessage('lobby', `before ${signal}`);
      cli.child.kill(signal);
      const close = await client.waitForClose();
      const exit = await cli.exited;

      assert.equal(ack.seq, 1);
      assert.equal(close.code, CLOSE_CODES.serviceRestart);
      assert.equal(exit.code, 0, `stderr: ${exit.stderr}`);
      assert.equal(exit.signal, null);

      const reopened = await startTestServerIn(directory);
      t.after(() => reopened.server.close());
      const reader = await TestClient.guest(reopened.server.url, 'Reader');
      const stored = await readWholeRoom(reader, 'lobby');
      assert.deepEqual(stored.map((event) => event.id), [ack.messageId]);
    });
  }

  test('CLI: --help lists options, defaults', { timeout: TEST_TIMEOUT_MS }, async () => {
    const exit = await runCli(['--help']);

    assert.equal(exit.code, 0);
    for (const option of CLI_OPTIONS) {
      assert.ok(exit.stdout.includes(`--${option.flag}`), `--help lists --${option.flag}`);
    }
    assert.match(exit.stdout, /--port <value>\n.*\n\s+env CONFAB_PORT; default 8080/);
    assert.match(exit.stdout, /--host <value>\n.*\n\s+env CONFAB_HOST; default 127\.0\.0\.1/);
    assert.match(exit.stdout, /--typing-timeout-ms <value>\n.*\n\s+env CONFAB_TYPING_TIMEOUT_MS; default 5000/);
  });

  test('CLI: open host without auth exits 2', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-cli-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));

    const exit = await runCli(['--host', '0.0.0.0', '--port', '0', '--database', join(directory, 'confab.db')]);

    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /refusing to listen on 0\.0\.0\.0 with no authentication/);
    assert.match(exit.stderr, /--allow-guests/);
  });

  test('CLI: bad option exits 2', { timeout: TEST_TIMEOUT_MS }, async () => {
    const unknown = await runCli(['--no-such-option']);
    const badPort = await runCli(['--port', 'eighty']);

    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--help/);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be a whole number/);
  });

  // NOTE: this checks the settings, not a running server, so that no test listens on every
  // interface. The refusal above shows that the CLI validates the same settings before listening.
  test('open host with --allow-guests: valid', { timeout: TEST_TIMEOUT_MS }, () => {
    const guests = parseCliOptions(['--host', '0.0.0.0', '--allow-guests'], {});
    const tokens = parseCliOptions(['--host', '0.0.0.0'], { CONFAB_JWT_SECRET: 'a-secret-of-at-least-32-bytes-0123456789' });
    const none = parseCliOptions(['--host', '0.0.0.0'], {});

    assert.doesNotThrow(() => validateConfig(resolveConfig(guests.overrides)));
    assert.doesNotThrow(() => validateConfig(resolveConfig(tokens.overrides)));
    assert.throws(() => validateConfig(resolveConfig(none.overrides)), /refusing to listen/);
  });
});
