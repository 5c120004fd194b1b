import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

const TEST_TIMEOUT_MS = 30_000;

/** Reads one sample of a metric from Prometheus text format; 0 when it is absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(httpUrl: string): Promise<{ status: number; contentType: string; text: string }> {
  const response = await fetch(`${httpUrl}/metrics`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

describe('metrics endpoint', () => {
  test('scrape reflects traffic', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ sendRatePerSecond: 0.1, sendBurst: 4 });
    t.after(stop);
    const alice = await TestClient.guest(server.url, 'alice');
    const bob = await TestClient.guest(server.url, 'bob');
    t.after(() => {
      alice.close();
      bob.close();
    });
    await alice.join('lobby');
    await bob.join('lobby');
    await alice.join('other');

    for (let index = 0; index < 3; index++) {
      await alice.sendMessage('lobby', `message ${index}`, `metrics-${index}`);
    }
    await alice.sendMessage('lobby', 'message 0', 'metrics-0');
    const limited = await alice.request({ type: 'send', room: 'lobby', clientMessageId: 'metrics-9', content: 'x' });
    const notJoined = await bob.request({ type: 'send', room: 'other', clientMessageId: 'metrics-b', content: 'x' });
    bob.sendRaw('not json');
    await bob.waitForType('error', (frame) => frame.code === 'invalid_frame');
    await alice.waitForEvents('lobby', 3);
    await bob.waitForEvents('lobby', 3);
    const { text, status, contentType } = await scrape(server.httpUrl);

    assert.equal(status, 200);
    assert.match(contentType, /^text\/plain/);
    assert.equal(limited.type === 'error' && limited.code, 'rate_limited');
    assert.equal(notJoined.type === 'error' && notJoined.code, 'not_joined');
    assert.equal(sample(text, 'confab_connections'), 2);
    assert.equal(sample(text, 'confab_rooms'), 2);
    assert.equal(sample(text, 'confab_room_members'), 3);
    assert.equal(sample(text, 'confab_messages_received_total'), 3, 'the duplicate send is not counted');
    assert.equal(sample(text, 'confab_deliveries_total'), 6, 'three events to two members');
    assert.equal(sample(text, 'confab_send_to_ack_seconds_count'), 4, 'every acknowledged send, duplicate included');
    assert.equal(sample(text, 'confab_rate_limited_total'), 1);
    assert.equal(sample(text, 'confab_errors_total', '{code="rate_limited"}'), 1);
    assert.equal(sample(text, 'confab_errors_total', '{code="not_joined"}'), 1);
    assert.equal(sample(text, 'confab_errors_total', '{code="invalid_frame"}'), 1);
    assert.ok(sample(text, 'confab_process_resident_memory_bytes') > 0, 'process metrics are exported');
    assert.ok(sample(text, 'confab_store_batch_size_count') >= 1, 'store transactions are counted');
    assert.equal(sample(text, 'confab_store_batch_size_sum'), 4, 'every append went through a transaction');
    assert.equal(
      sample(text, 'confab_store_write_seconds_count'),
      sample(text, 'confab_store_batch_size_count'),
      'one write time per transaction',
    );
  });

  test('resume results counted', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);
    const alice = await TestClient.guest(server.url, 'alice');
    t.after(() => alice.close());
    await alice.join('lobby');
    await alice.sendMessage('lobby', 'hello');
    const epoch = alice.welcome?.epoch;

    await alice.request({ type: 'leave', room: 'lobby' });
    await alice.join('lobby', { since: 0, epoch });
    await alice.request({ type: 'leave', room: 'lobby' });
    await alice.join('lobby', { since: 0, epoch: 'another-log' });
    const { text } = await scrape(server.httpUrl);

    assert.equal(sample(text, 'confab_resumes_total', '{result="resumed"}'), 1);
    assert.equal(sample(text, 'confab_resumes_total', '{result="reset"}'), 1);
  });
});
