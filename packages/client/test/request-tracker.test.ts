import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfabError } from '../src/confab-error.js';
import { RequestTracker } from '../src/request-tracker.js';

describe('RequestTracker', () => {
  test('reply settles its request', async () => {
    const tracker = new RequestTracker();
    const first = tracker.nextId();
    const second = tracker.nextId();
    assert.notEqual(first, second);
    const firstReply = tracker.track<{ n: number }>(first, 'ping', 5000);
    const secondReply = tracker.track<{ n: number }>(second, 'ping', 5000);
    assert.equal(tracker.resolve(second, { n: 2 }), true);
    assert.equal(tracker.resolve(first, { n: 1 }), true);
    assert.equal(tracker.resolve(first, { n: 1 }), false, 'second reply ignored');
    assert.deepEqual(await firstReply, { n: 1 });
    assert.deepEqual(await secondReply, { n: 2 });
    assert.equal(tracker.size, 0);
  });

  test('onReply runs before the promise', async () => {
    const tracker = new RequestTracker();
    const order: string[] = [];
    const id = tracker.nextId();
    const reply = tracker.track(id, 'join', 5000, () => order.push('onReply'));
    void reply.then(() => order.push('then'));
    tracker.resolve(id, {});
    order.push('after resolve');
    await reply;
    assert.deepEqual(order, ['onReply', 'after resolve', 'then']);
  });

  test('no reply times out', async () => {
    const tracker = new RequestTracker();
    const id = tracker.nextId();
    await assert.rejects(tracker.track(id, 'history', 20), (error: unknown) => {
      assert.ok(error instanceof ConfabError);
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /history request r1 got no reply within 20 ms/);
      return true;
    });
    assert.equal(tracker.size, 0);
  });

  test('rejectAll fails every request', async () => {
    const tracker = new RequestTracker();
    const replies = [tracker.nextId(), tracker.nextId()].map((id) => tracker.track(id, 'send', 5000));
    tracker.rejectAll(new ConfabError('disconnected', 'gone'));
    for (const reply of replies) {
      await assert.rejects(reply, { code: 'disconnected' });
    }
    assert.equal(tracker.size, 0);
  });

  test('error frame rejects by id', async () => {
    const tracker = new RequestTracker();
    const id = tracker.nextId();
    const reply = tracker.track(id, 'send', 5000);
    assert.equal(tracker.reject(id, new ConfabError('rate_limited', 'slow down', { retryAfterMs: 300 })), true);
    await assert.rejects(reply, { code: 'rate_limited', retryAfterMs: 300 });
    assert.equal(tracker.reject(id, new ConfabError('internal', 'late')), false);
  });
});
