import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';

import { assertDelivery, startBystanderRoom } from './support/bystander-room.js';
import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

const TEST_TIMEOUT_MS = 30_000;

const HOSTILE_FRAMES: { name: string; text: string; code: string; field?: string; requestId?: string }[] = [
  { name: 'bare word', text: 'hello', code: 'invalid_frame' },
  { name: 'null', text: 'null', code: 'invalid_frame' },
  { name: 'empty array', text: '[]', code: 'invalid_frame' },
  { name: 'server frame type', text: '{"type":"error"}', code: 'unknown_type' },
  { name: '__proto__ type', text: '{"type":"__proto__"}', code: 'unknown_type' },
  { name: 'constructor type', text: '{"type":"constructor"}', code: 'unknown_type' },
  {
    name: 'send with object room and number content',
    text: '{"type":"send","requestId":"s1","room":{"name":"r1"},"clientMessageId":"c1","content":42}',
    code: 'invalid_field',
    field: 'room',
    requestId: 's1',
  },
  {
    name: 'own __proto__ field',
    text: '{"type":"send","requestId":"s2","room":"r1","clientMessageId":"c2","content":"hi","__proto__":{"admin":true}}',
    code: 'invalid_field',
    field: '__proto__',
    requestId: 's2',
  },
];

describe('malformed input', { timeout: TEST_TIMEOUT_MS }, () => {
  for (const hostile of HOSTILE_FRAMES) {
    test(`${hostile.name}: ${hostile.code}`, async (t) => {
      const { server, stop, alice, bob } = await startBystanderRoom();
      t.after(stop);

      const attacker = await TestClient.guest(server.url, 'Mallory');
      await attacker.join('r1');
      attacker.sendRaw(hostile.text);
      const error = await attacker.waitForType('error');

      assert.equal(error.code, hostile.code);
      assert.equal(typeof error.message, 'string');
      assert.ok(error.message.length > 0);
      if (hostile.field !== undefined) {
        assert.equal(error.field, hostile.field);
      }
      if (hostile.requestId !== undefined) {
        assert.equal(error.requestId, hostile.requestId);
      }
      const pong = await attacker.request({ type: 'ping' });
      assert.equal(pong.type, 'pong', 'the connection stays usable after one invalid frame');
      await assertDelivery(alice, bob, `after ${hostile.name}`);
      await assertDelivery(bob, attacker, `to the sender of ${hostile.name}`);
    });
  }

  test('hostile frames before auth: same codes', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    for (const hostile of HOSTILE_FRAMES) {
      const stranger = await TestClient.connect(server.url);
      stranger.sendRaw(hostile.text);
      const error = await stranger.waitForType('error');
      assert.equal(error.code, hostile.code, hostile.name);
      stranger.close();
    }
    await assertDelivery(alice, bob, 'after the strangers');
  });

  test('binary frame: close 1003', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    const attacker = await TestClient.guest(server.url, 'Mallory');
    await attacker.join('r1');
    attacker.sendRaw(Buffer.from('{"type":"ping","requestId":"p1"}'), { binary: true });
    const closed = await attacker.waitForClose();

    assert.equal(closed.code, CLOSE_CODES.unsupportedData);
    await assertDelivery(alice, bob, 'after the binary frame');
  });

  test('invalid frame burst: close 1008', async (t) => {
    const invalidFrameBurst = 5;
    const { server, stop } = await startTestServer({ invalidFrameBurst });
    t.after(stop);
    const alice = await TestClient.guest(server.url, 'Alice');
    const bob = await TestClient.guest(server.url, 'Bob');
    await alice.join('r1');
    await bob.join('r1');

    const attacker = await TestClient.guest(server.url, 'Mallory');
    await attacker.join('r1');
    for (let i = 0; i <= invalidFrameBurst; i++) {
      attacker.sendRaw('{"type":"__proto__"}');
    }
    const closed = await attacker.waitForClose();
    const errors = attacker.frames.filter((frame) => frame.type === 'error');

    assert.equal(closed.code, CLOSE_CODES.policyViolation);
    assert.equal(errors.length, invalidFrameBurst + 1, 'every invalid frame got its error before the close');
    await assertDelivery(alice, bob, 'after the burst');
  });

  test('invalid frames within the burst: stays open', async (t) => {
    const invalidFrameBurst = 5;
    const { server, stop } = await startTestServer({ invalidFrameBurst });
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    for (let i = 0; i < invalidFrameBurst; i++) {
      client.sendRaw('[]');
    }
    const pong = await client.request({ type: 'ping' });

    assert.equal(pong.type, 'pong');
    assert.equal(client.frames.filter((frame) => frame.type === 'error').length, invalidFrameBurst);
  });

  test('many hostile clients: server stays up', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    const attackers = await Promise.all(HOSTILE_FRAMES.map((_, i) => TestClient.guest(server.url, `Mallory ${i}`)));
    for (let round = 0; round < 30; round++) {
      for (const [i, attacker] of attackers.entries()) {
        attacker.sendRaw((HOSTILE_FRAMES[i] as { text: string }).text);
      }
    }
    await Promise.all(attackers.map((attacker) => attacker.waitForClose()));
    const health = await fetch(`${server.httpUrl}/healthz`);

    assert.equal(health.status, 200);
    assert.ok(attackers.every((attacker) => attacker.frames.some((frame) => frame.type === 'error')));
    await assertDelivery(alice, bob, 'after the flood of invalid frames');
  });
});
