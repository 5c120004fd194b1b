import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import * as wsModule from 'ws';

import { encodeTextFrame } from '../src/wire-frame.js';

// @types/ws does not declare Receiver, which ws exports: the part of it used here.
interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void;
}
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean }) => FrameReceiver };

/** Parses frames with ws's own client-side parser and returns the text messages it read. */
async function readFrames(bytes: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false });
  const messages: string[] = [];
  receiver.on('message', (data, isBinary) => {
    assert.equal(isBinary, false, 'a text frame');
    messages.push(data.toString());
  });
  await new Promise<void>((resolve, reject) => {
    receiver.on('error', reject);
    receiver.write(bytes, 'binary', (error) => (error ? reject(error) : resolve()));
  });
  return messages;
}

describe('encodeTextFrame', () => {
  for (const length of [0, 1, 125, 126, 65_535, 65_536, 200_000]) {
    test(`payload of ${length} bytes`, async () => {
      const text = 'x'.repeat(length);
      const messages = await readFrames(encodeTextFrame(text));
      assert.equal(messages.length, 1);
      assert.equal(messages[0], text);
    });
  }

  test('multi-byte UTF-8 length', async () => {
    const text = 'é€😀'.repeat(50);
    const frame = encodeTextFrame(text);
    assert.equal(frame.length, Buffer.byteLength(text) + 4);
    assert.deepEqual(await readFrames(frame), [text]);
  });

  test('frames joined in one write', async () => {
    const texts = ['{"a":1}', 'y'.repeat(300), '{"b":2}'];
    const joined = Buffer.concat(texts.map((text) => encodeTextFrame(text)));
    assert.deepEqual(await readFrames(joined), texts);
  });
});
