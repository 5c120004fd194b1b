import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLOSE_CODES, DEFAULT_LIMITS } from '@confab/protocol';

import { encodeClientFrame, OPCODES } from './support/encode-client-frame.js';
import { RawWebSocket, type RawCloseInfo } from './support/raw-websocket.js';
import { assertDelivery, startBystanderRoom } from './support/bystander-room.js';
import { TestClient } from './support/test-client.js';
import { sleep } from './support/test-server.js';

const TEST_TIMEOUT_MS = 60_000;
const MIB = 1024 * 1024;
/** How long a test waits for the server to close an oversized frame's socket. */
const CLOSE_WAIT_MS = 5000;
/** Loose bound on process growth: far below the sizes the frames declare. */
const MAX_RSS_GROWTH_BYTES = 100 * MIB;

/** Resolves with the close of a raw socket, or rejects when it is still open after `CLOSE_WAIT_MS`. */
async function waitForRawClose(raw: RawWebSocket): Promise<RawCloseInfo> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${CLOSE_WAIT_MS} ms`)), CLOSE_WAIT_MS);
  });
  try {
    return await Promise.race([raw.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function signedInRaw(port: number): Promise<RawWebSocket> {
  const raw = await RawWebSocket.connect(port);
  const welcome = await raw.authenticateGuest('Mallory');
  assert.equal(welcome['type'], 'welcome');
  return raw;
}

describe('oversize', { timeout: TEST_TIMEOUT_MS }, () => {
  test('200 MB frame header: close 1009 before the body', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);
    const raw = await signedInRaw(server.port);
    const rssBefore = process.memoryUsage().rss;

    // Only the header and the start of the payload are sent: a server that waited for the whole
    // frame would never close, and one that allocated it up front would grow by 200 MB.
    raw.write(encodeClientFrame({ opcode: OPCODES.text, declaredLength: 200 * MIB, payload: '{"type":"send","content":"' }));
    const closed = await waitForRawClose(raw);
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    assert.equal(closed.code, CLOSE_CODES.messageTooBig);
    assert.ok(rssGrowth < MAX_RSS_GROWTH_BYTES, `rss grew by ${rssGrowth} bytes`);
    await assertDelivery(alice, bob, 'after the 200 MB header');
  });

  test('1 GB header, trickled body: close 1009', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);
    const raw = await signedInRaw(server.port);

    raw.write(encodeClientFrame({ opcode: OPCODES.text, declaredLength: 1024 * MIB, payload: '{' }));
    let trickledBytes = 0;
    const trickle = setInterval(() => {
      if (raw.socket.writable) {
        raw.write(Buffer.alloc(64, 0x61));
        trickledBytes += 64;
      }
    }, 20);
    t.after(() => clearInterval(trickle));
    const closed = await waitForRawClose(raw);
    clearInterval(trickle);

    assert.equal(closed.code, CLOSE_CODES.messageTooBig);
    assert.ok(trickledBytes < MIB, `the server read ${trickledBytes} bytes before closing`);
    await assertDelivery(alice, bob, 'after the trickled frame');
  });

  test('frame one byte over the limit: close 1009', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);
    const raw = await signedInRaw(server.port);

    raw.write(encodeClientFrame({ opcode: OPCODES.text, declaredLength: DEFAULT_LIMITS.maxFrameBytes + 1, payload: '{' }));
    const closed = await waitForRawClose(raw);

    assert.equal(closed.code, CLOSE_CODES.messageTooBig);
    await assertDelivery(alice, bob, 'after the frame over the limit');
  });

  test('fragments summing over the limit: close 1009', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);
    const raw = await signedInRaw(server.port);

    // Each fragment is under the limit; the message they build is not.
    const fragment = Buffer.alloc(600 * 1024, 0x61);
    raw.write(encodeClientFrame({ opcode: OPCODES.text, fin: false, payload: fragment }));
    raw.write(encodeClientFrame({ opcode: OPCODES.continuation, fin: false, payload: fragment }));
    const closed = await waitForRawClose(raw);

    assert.equal(closed.code, CLOSE_CODES.messageTooBig);
    await assertDelivery(alice, bob, 'after the fragments');
  });

  test('frame of exactly the limit: accepted', async (t) => {
    const { server, stop } = await startBystanderRoom();
    t.after(stop);
    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('r1');

    const frame = { type: 'send', requestId: 's1', room: 'r1', clientMessageId: 'c1', content: '' };
    frame.content = 'x'.repeat(DEFAULT_LIMITS.maxFrameBytes - Buffer.byteLength(JSON.stringify(frame)));
    const text = JSON.stringify(frame);
    client.sendRaw(text);
    const reply = await client.waitForType('error', (error) => error.requestId === 's1');

    assert.equal(Buffer.byteLength(text), DEFAULT_LIMITS.maxFrameBytes);
    assert.equal(reply.code, 'too_large', 'the frame was read whole and only the content was refused');
  });

  test('1,000,000-character content: too_large', async (t) => {
    const { server, stop, alice, bob } = await startBystanderRoom();
    t.after(stop);
    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('r1');

    const error = await client.requestError({
      type: 'send',
      room: 'r1',
      clientMessageId: 'c-huge',
      content: 'x'.repeat(1_000_000),
    });
    await sleep(100);

    assert.equal(error.code, 'too_large');
    assert.equal(error.field, 'content');
    assert.equal(alice.eventsIn('r1').length, 0, 'nothing was delivered');
    await assertDelivery(client, alice, 'the sender keeps working');
    await assertDelivery(alice, bob, 'other sessions keep working');
  });

  test('content one code point over: too_large', async (t) => {
    const { server, stop } = await startBystanderRoom();
    t.after(stop);
    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('r1');

    // Astral characters are two UTF-16 units each, but the limit counts code points.
    const atLimit = '\u{1f600}'.repeat(DEFAULT_LIMITS.maxContentCodePoints);
    const accepted = await client.sendMessage('r1', atLimit);
    const error = await client.requestError({
      type: 'send',
      room: 'r1',
      clientMessageId: 'c-over',
      content: `${atLimit}x`,
    });

    assert.equal(accepted.type, 'sent');
    assert.equal(error.code, 'too_large');
  });
});
