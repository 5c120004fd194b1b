import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';
import fc from 'fast-check';

import { startCliServer, type CliServer } from '../support/cli-process.js';
import { findDeliveryViolations, type ReceivedLog, type SendAttempt } from '../support/delivery-checker.js';
import { TestClient } from '../support/test-client.js';
import { waitUntil } from '../support/test-cluster.js';
import { sleep } from '../support/test-server.js';
import { isRunning, stopCliServer } from './support/cli-server-control.js';
import { loadFrameCorpus, type CorpusEntry } from './support/frame-corpus.js';
import { FuzzConnection } from './support/fuzz-connection.js';
import { fuzzFrame, openingFrames, textFuzzFrame } from './support/fuzz-frames.js';
import { FuzzStats, runBurst, runLockStep, type FuzzTarget } from './support/fuzz-runner.js';
import { faultSeed } from './support/seeded-random.js';

const TEST_TIMEOUT_MS = 90_000;
/** Fuzzers that run at once, each on its own connections, so that the server handles them interleaved. */
const LOCK_STEP_WORKERS = 4;
const LOCK_STEP_RUNS = 70;
const LOCK_STEP_MAX_FRAMES = 60;
const BURST_WORKERS = 3;
const BURST_RUNS = 120;
const BURST_MAX_FRAMES = 100;
/** A run that sends fewer frames than this in total has not fuzzed enough to mean much. */
const MIN_TOTAL_FRAMES = 20_000;
/** Stops a fuzzer's shrinking of a failure after this long, so that a hung server cannot stall CI. */
const FUZZ_TIME_LIMIT_MS = 60_000;
const BYSTANDER_ROOM = 'bystanders';
const BYSTANDER_SEND_INTERVAL_MS = 100;
const REPLY_TIMEOUT_MS = 10_000;
/** pino's numeric level of `error`. A log line at or above it means the server hit an unexpected fault. */
const PINO_ERROR_LEVEL = 50;

const seed = faultSeed();
const replay = `(replay with CONFAB_FAULT_SEED=${seed})`;

/** Two users in one room who keep sending while the fuzzer runs, to show that other sessions are unaffected. */
class Bystanders {
  readonly sends: SendAttempt[] = [];
  readonly failures: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    readonly sender: TestClient,
    readonly receiver: TestClient,
    private readonly firstSeq: number,
  ) {
    this.loop = this.talk();
  }

  get received(): number {
    return this.receiver.eventsIn(BYSTANDER_ROOM).length;
  }

  logs(): ReceivedLog[] {
    return [this.sender, this.receiver].map((client, index) => ({
      client: index === 0 ? 'bystander sender' : 'bystander receiver',
      events: client.eventsIn(BYSTANDER_ROOM),
      firstSeq: { [BYSTANDER_ROOM]: this.firstSeq },
    }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async talk(): Promise<void> {
    for (let count = 1; this.running; count++) {
      const attempt: SendAttempt = { room: BYSTANDER_ROOM, senderId: this.sender.userId, clientMessageId: `tick-${count}`, content: `tick ${count}` };
      this.sends.push(attempt);
      try {
        const sent = await this.sender.sendMessage(BYSTANDER_ROOM, attempt.content, attempt.clientMessageId);
        attempt.ack = { seq: sent.seq, messageId: sent.messageId };
      } catch (error) {
        this.failures.push(`${attempt.clientMessageId}: ${(error as Error).message}`);
      }
      await sleep(BYSTANDER_SEND_INTERVAL_MS);
    }
  }
}

/** Runs `phase` and asserts that the bystanders received messages while it ran. */
async function whileBystandersTalk(bystanders: Bystanders, name: string, phase: () => Promise<void>): Promise<void> {
  const before = bystanders.received;
  await phase();
  const receivedDuring = bystanders.received - before;
  assert.ok(receivedDuring > 0, `the bystander received no message during ${name}`);
}

/**
 * Runs `workers` copies of a property at once, each from its own seed. A hung server fails the run
 * after FUZZ_TIME_LIMIT_MS instead of stalling it, shrinking included.
 */
async function runConcurrently<T>(property: fc.IAsyncProperty<T>, workers: number, firstSeed: number, numRuns: number): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, (_, worker) =>
      fc.assert(property, {
        seed: firstSeed + worker,
        numRuns,
        plugins: [fc.interruptAfterTimeLimit(FUZZ_TIME_LIMIT_MS, { failOnInterrupt: true })],
      }),
    ),
  );
}

/** Runs `fuzz` and reports how many frames it sent. */
async function countFrames(t: TestContext, stats: FuzzStats, fuzz: () => Promise<void>): Promise<void> {
  const before = stats.frames;
  const startedAt = Date.now();
  await fuzz();
  t.diagnostic(`${stats.frames - before} frames in ${Date.now() - startedAt} ms`);
}

/** Opens a connection in the corpus entry's stage, sends its frame and checks the documented outcome. */
async function replayCorpusEntry(target: FuzzTarget, entry: CorpusEntry): Promise<void> {
  const connection = await FuzzConnection.open(target.port, target.epoch, target.maxFrameBytes);
  target.stats.connections++;
  try {
    const opening: string[] = [];
    if (entry.stage !== 'open') {
      opening.push(JSON.stringify({ type: 'auth', requestId: 'corpus-auth', guest: { name: 'corpus' } }));
    }
    if (entry.stage === 'joined') {
      opening.push(JSON.stringify({ type: 'join', requestId: 'corpus-join', room: 'fuzz-a' }));
    }
    for (const text of opening) {
      connection.sendText(text);
      const outcome = await connection.next(REPLY_TIMEOUT_MS);
      assert.equal(outcome.kind, 'reply', `${entry.name}: setup frame ${text} got no reply: ${JSON.stringify(outcome)}`);
      assert.notEqual(outcome.kind === 'reply' ? outcome.frame['type'] : undefined, 'error', `${entry.name}: setup frame ${text} failed: ${JSON.stringify(outcome)}`);
    }

    connection.send(entry.frame);
    target.stats.frames++;
    const { reply, error, close } = entry.expect;
    if (reply !== undefined || error !== undefined) {
      const outcome = await connection.next(REPLY_TIMEOUT_MS);
      const got = outcome.kind === 'reply' ? outcome.frame : outcome;
      if (reply !== undefined) {
        assert.equal(got['type' as keyof typeof got], reply, `${entry.name}: expected a ${reply} reply, got ${JSON.stringify(got).slice(0, 300)}`);
      } else {
        assert.equal(got['code' as keyof typeof got], error, `${entry.name}: expected error ${error}, got ${JSON.stringify(got).slice(0, 300)}`);
      }
    }
    if (close !== undefined) {
      const outcome = await connection.next(REPLY_TIMEOUT_MS);
      assert.deepEqual(outcome, { kind: 'closed', code: close }, `${entry.name}: expected close ${close}`);
      return;
    }

    // With no close expected, the connection must still reply to requests.
    connection.sendText(JSON.stringify({ type: 'ping', requestId: 'corpus-after' }));
    const after = await connection.next(REPLY_TIMEOUT_MS);
    assert.equal(after.kind === 'reply' ? after.frame['requestId'] : after.kind, 'corpus-after', `${entry.name}: the connection still replies afterwards`);
  } finally {
    target.stats.malformedServerFrames.push(...connection.malformedServerFrames);
    connection.destroy();
  }
}

describe('handler fuzzing', { timeout: TEST_TIMEOUT_MS * 3 }, () => {
  const directory = mkdtempSync(join(tmpdir(), 'confab-fuzz-'));
  const stats = new FuzzStats();
  const serverLog: string[] = [];
  let server: CliServer;
  let target: FuzzTarget;
  let bystanders: Bystanders;

  before(async () => {
    server = await startCliServer([
      '--port', '0',
      '--database', join(directory, 'confab.db'),
      '--log-level', 'warn',
      '--sqlite-synchronous', 'normal',
      // Long, so that a slow run never meets the auth deadline in the middle of a sequence.
      '--auth-timeout-ms', '120000',
    ]);
    server.child.stdout?.on('data', (chunk: Buffer) => serverLog.push(...chunk.toString().split('\n').filter((line) => line !== '')));

    const sender = await TestClient.guest(server.url, 'Bystander sender');
    const receiver = await TestClient.guest(server.url, 'Bystander receiver');
    const joined = await sender.join(BYSTANDER_ROOM);
    await receiver.join(BYSTANDER_ROOM);
    bystanders = new Bystanders(sender, receiver, joined.headSeq + 1);
    const welcome = sender.welcome;
    assert.ok(welcome !== undefined, 'the bystander signed in');
    target = { port: server.port, epoch: welcome.epoch, maxFrameBytes: welcome.limits.maxFrameBytes, stats };
  });

  after(async () => {
    await bystanders?.stop();
    bystanders?.sender.close();
    bystanders?.receiver.close();
    if (server !== undefined) {
      await stopCliServer(server);
    }
    rmSync(directory, { recursive: true, force: true });
  });

  test('corpus frames: documented outcomes', { timeout: TEST_TIMEOUT_MS }, async () => {
    const corpus = loadFrameCorpus();
    assert.ok(corpus.length > 0, 'the corpus has frames');

    await whileBystandersTalk(bystanders, 'the corpus replay', async () => {
      for (const entry of corpus) {
        await replayCorpusEntry(target, entry);
      }
    });
  });

  test('frame sequences: coded reply or close', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const property = fc.asyncProperty(openingFrames, fc.array(fuzzFrame, { minLength: 1, maxLength: LOCK_STEP_MAX_FRAMES, size: 'max' }), (opening, frames) =>
      runLockStep(target, opening, frames),
    );
    await whileBystandersTalk(bystanders, 'the frame sequences', () =>
      countFrames(t, stats, () => runConcurrently(property, LOCK_STEP_WORKERS, seed, LOCK_STEP_RUNS)),
    );
  });

  test('frame bursts: coded replies, no crash', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const property = fc.asyncProperty(openingFrames, fc.array(textFuzzFrame, { minLength: 1, maxLength: BURST_MAX_FRAMES, size: 'max' }), (opening, frames) =>
      runBurst(target, opening, frames),
    );
    await whileBystandersTalk(bystanders, 'the frame bursts', () =>
      countFrames(t, stats, () => runConcurrently(property, BURST_WORKERS, seed + LOCK_STEP_WORKERS, BURST_RUNS)),
    );
  });

  test('after fuzzing: server up, bystanders served', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await bystanders.stop();
    const lastAckedSeq = Math.max(0, ...bystanders.sends.map((send) => send.ack?.seq ?? 0));
    await waitUntil(
      'the bystander receiver to get the last acknowledged message',
      () => (bystanders.receiver.eventsIn(BYSTANDER_ROOM).at(-1)?.seq ?? 0) >= lastAckedSeq,
      REPLY_TIMEOUT_MS,
    );
    const health = await fetch(`${server.httpUrl}/healthz`);
    await health.body?.cancel();
    const errorLines = serverLog.filter((line) => {
      try {
        return (JSON.parse(line) as { level?: number }).level! >= PINO_ERROR_LEVEL;
      } catch {
        return true;
      }
    });
    t.diagnostic(`${stats.summary()} ${replay}`);
    t.diagnostic(`bystander receiver got ${bystanders.received} messages`);

    assert.ok(isRunning(server), 'the server process is still running');
    assert.equal(health.status, 200, '/healthz answers 200');
    assert.deepEqual(errorLines.slice(0, 5), [], `the server logged no error (${errorLines.length} lines) ${replay}`);
    assert.deepEqual(stats.malformedServerFrames.slice(0, 5), [], 'every server text frame was a UTF-8 JSON object with a type');
    assert.ok(stats.frames >= MIN_TOTAL_FRAMES, `the fuzzer sent ${stats.frames} frames, at least ${MIN_TOTAL_FRAMES} ${replay}`);
    assert.deepEqual(bystanders.failures.slice(0, 5), [], 'every bystander send was acknowledged');
    assert.deepEqual(findDeliveryViolations(bystanders.logs(), bystanders.sends).slice(0, 20), [], 'the bystanders got every message once, in order');

    // Coverage: the generators reached each documented outcome, so the checks above had something to check.
    for (const code of ['invalid_frame', 'unknown_type', 'invalid_field', 'unauthorized', 'not_joined', 'already_authenticated', 'rate_limited', 'too_large']) {
      assert.ok((stats.errors.get(code) ?? 0) > 0, `the fuzzer provoked error ${code} ${replay}`);
    }
    for (const type of ['welcome', 'joined', 'left', 'sent', 'history', 'pong']) {
      assert.ok((stats.replies.get(type) ?? 0) > 0, `the fuzzer got a ${type} reply ${replay}`);
    }
    for (const code of [CLOSE_CODES.invalidPayload, CLOSE_CODES.messageTooBig, CLOSE_CODES.unsupportedData, CLOSE_CODES.protocolError, CLOSE_CODES.policyViolation, CLOSE_CODES.authFailed]) {
      assert.ok((stats.closes.get(String(code)) ?? 0) > 0, `the fuzzer provoked close ${code} ${replay}`);
    }
  });
});
