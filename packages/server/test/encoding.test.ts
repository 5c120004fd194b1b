import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';

import { encodeClientFrame, OPCODES } from './support/encode-client-frame.js';
import { RawWebSocket } from './support/raw-websocket.js';
import { assertDelivery, startBystanderRoom } from './support/bystander-room.js';
import { startTestServer } from './support/test-server.js';

const TEST_TIMEOUT_MS = 30_000;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Connects a raw client, signs it in as a guest and joins r1. */
async function rawMember(port: number, name: string): Promise<RawWebSocket> {
  const raw = await RawWebSocket.connect(port);
  const welcome = await raw.authenticateGuest(name);
  assert.equal(welcome['type'], 'welcome');
  raw.sendJson({ type: 'join', requestId: 'join-r1', room: 'r1' });
  const joined = await raw.waitForJson((value) => value['requestId'] === 'join-r1');
  assert.equal(joined['type'], 'joined');
  return raw;
}

/** Asserts that every data frame the raw client received is a text frame of valid UTF-8. */
function assertAllValidUtf8(raw: RawWebSocket): void {
  const dataFrames = raw.frames.filter((frame) => frame.opcode < 0x8);
  for (const [index, frame] of dataFrames.entries()) {
    assert.equal(frame.opcode, OPCODES.text, `data frame ${index} has opcode ${frame.opcode}: ${frame.payload.toString()}`);
    assert.doesNotThrow(
      () => STRICT_UTF8.decode(frame.payload),
      `data frame ${index} is not valid UTF-8: ${frame.payload.toString('hex')}`,
    );
  }
}

describe('encoding', { timeout: TEST_TIMEOUT_MS }, () => {
  test('invalid UTF-8 text frame: close 1007', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    const raw = await rawMember(server.port, 'Mallory');
    raw.sendText(Buffer.from([0xc3, 0x28]));
    const closed = await raw.closed;

    assert.equal(closed.code, CLOSE_CODES.invalidPayload);
    await assertDelivery(alice, bob, 'after the invalid UTF-8');
  });

  test('UTF-8-encoded surrogate in a frame: close 1007', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    // ED A0 BD is U+D83D encoded as if it were a scalar value (CESU-8), which UTF-8 forbids.
    const raw = await rawMember(server.port, 'Mallory');
    const prefix = Buffer.from('{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":"a');
    raw.sendText(Buffer.concat([prefix, Buffer.from([0xed, 0xa0, 0xbd]), Buffer.from('b"}')]));
    const closed = await raw.closed;

    assert.equal(closed.code, CLOSE_CODES.invalidPayload);
    await assertDelivery(alice, bob, 'after the encoded surrogate');
  });

  test('reserved opcode 0x3: close 1002', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    const raw = await rawMember(server.port, 'Mallory');
    raw.write(encodeClientFrame({ opcode: 0x3, payload: '{"type":"ping","requestId":"p1"}' }));
    const closed = await raw.closed;

    assert.equal(closed.code, CLOSE_CODES.protocolError);
    await assertDelivery(alice, bob, 'after the reserved opcode');
  });

  test('unmasked client frame: close 1002', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);

    const raw = await rawMember(server.port, 'Mallory');
    raw.write(encodeClientFrame({ opcode: OPCODES.text, payload: '{"type":"ping","requestId":"p1"}', masked: false }));
    const closed = await raw.closed;

    assert.equal(closed.code, CLOSE_CODES.protocolError);
    await assertDelivery(alice, bob, 'after the unmasked frame');
  });

  test('lone surrogate escape: stored as U+FFFD', async (t) => {
    const { server, stop, alice } = await startBystanderRoom();
    t.after(stop);
    const observer = await rawMember(server.port, 'Olga');
    const sender = await rawMember(server.port, 'Mallory');

    // Presence and typing frames go out through the same pre-encoded path as events.
    await observer.waitForJson((value) => value['type'] === 'presence');
    sender.sendJson({ type: 'typing', room: 'r1', typing: true });
    await observer.waitForJson((value) => value['type'] === 'typing');
    // The backslash is part of the JSON text, so JSON.parse yields a lone high surrogate.
    sender.sendText('{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":"a\\ud83db"}');
    const sent = await sender.waitForJson((value) => value['requestId'] === 's1');
    const observed = await observer.waitForJson((value) => value['type'] === 'event');
    const aliceEvent = await alice.waitForType('event');
    observer.sendJson({ type: 'history', requestId: 'h1', room: 'r1' });
    const history = await observer.waitForJson((value) => value['requestId'] === 'h1');

    assert.equal(sent['type'], 'sent');
    assert.equal((observed['event'] as { content: string }).content, 'a\ufffdb');
    assert.equal(aliceEvent.event.content, 'a\ufffdb');
    assert.equal((history['events'] as { content: string }[])[0]?.content, 'a\ufffdb');
    assertAllValidUtf8(observer);
    assertAllValidUtf8(sender);
  });

  test('lone surrogates elsewhere: replies are valid UTF-8', async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);
    const raw = await RawWebSocket.connect(server.port);

    raw.sendText('{"type":"auth","requestId":"a\\udc00","guest":{"name":"Eve \\ud800"}}');
    const welcome = await raw.waitForJson((value) => value['type'] === 'welcome');
    raw.sendText('{"type":"ping","requestId":"p\\ud83d"}');
    await raw.waitForJson((value) => value['type'] === 'pong');
    raw.sendText('{"type":"\\ud83d\\ude00\\ud83d","requestId":"x\\ude00"}');
    await raw.waitForJson((value) => value['type'] === 'error');
    raw.sendText(`{"type":"ping","requestId":"q","${'k'.repeat(63)}\\ud83d\\ude00":1}`);
    await raw.waitForJson((value) => value['type'] === 'error' && value['requestId'] === 'q');

    assert.equal((welcome['user'] as { name: string }).name, 'Eve \ufffd');
    assertAllValidUtf8(raw);
    raw.destroy();
  });
});
