import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TypingTracker } from '../src/typing-tracker.js';

const alice = { id: 'u1', name: 'alice' };
const bob = { id: 'u2', name: 'bob' };
const EXPIRY_MS = 6000;

describe('TypingTracker', () => {
  test('start, renew and stop', () => {
    const tracker = new TypingTracker();
    assert.equal(tracker.apply(alice, true, 0, EXPIRY_MS), true);
    assert.equal(tracker.apply(alice, true, 1000, EXPIRY_MS), false, 'renewal is no change');
    assert.equal(tracker.apply(bob, true, 1500, EXPIRY_MS), true);
    assert.deepEqual(tracker.users(), [alice, bob]);
    assert.equal(tracker.apply(alice, false, 2000, EXPIRY_MS), true);
    assert.equal(tracker.apply(alice, false, 2100, EXPIRY_MS), false);
    assert.deepEqual(tracker.users(), [bob]);
  });

  test('start expires without stop', () => {
    const tracker = new TypingTracker();
    tracker.apply(alice, true, 0, EXPIRY_MS);
    tracker.apply(bob, true, 2000, EXPIRY_MS);
    assert.equal(tracker.nextExpiryMs(), 6000);
    assert.equal(tracker.expire(5999), false);
    assert.equal(tracker.expire(6000), true);
    assert.deepEqual(tracker.users(), [bob]);
    assert.equal(tracker.nextExpiryMs(), 8000);
  });

  test('renewal pushes expiry back', () => {
    const tracker = new TypingTracker();
    tracker.apply(alice, true, 0, EXPIRY_MS);
    tracker.apply(alice, true, 4000, EXPIRY_MS);
    assert.equal(tracker.expire(7000), false);
    assert.equal(tracker.expire(10_000), true);
    assert.deepEqual(tracker.users(), []);
    assert.equal(tracker.nextExpiryMs(), null);
  });

  test('rename counts as change', () => {
    const tracker = new TypingTracker();
    tracker.apply(alice, true, 0, EXPIRY_MS);
    assert.equal(tracker.apply({ id: 'u1', name: 'alicia' }, true, 10, EXPIRY_MS), true);
    assert.deepEqual(tracker.users(), [{ id: 'u1', name: 'alicia' }]);
  });

  test('clear and remove', () => {
    const tracker = new TypingTracker();
    assert.equal(tracker.clear(), false);
    tracker.apply(alice, true, 0, EXPIRY_MS);
    tracker.apply(bob, true, 0, EXPIRY_MS);
    assert.equal(tracker.remove('u2'), true);
    assert.equal(tracker.remove('u2'), false);
    assert.equal(tracker.clear(), true);
    assert.deepEqual(tracker.users(), []);
  });
});
