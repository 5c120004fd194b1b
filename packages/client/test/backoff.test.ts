import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Backoff, DEFAULT_BACKOFF_POLICY } from '../src/backoff.js';

describe('Backoff', () => {
  test('ceiling doubles up to the cap', () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000 });
    const cases: Array<[attempt: number, ceilingMs: number]> = [
      [0, 100],
      [1, 200],
      [2, 400],
      [3, 800],
      [4, 1000],
      [10, 1000],
      [5000, 1000],
    ];
    for (const [attempt, ceilingMs] of cases) {
      assert.equal(backoff.ceilingMs(attempt), ceilingMs, `attempt ${attempt}`);
    }
  });

  test('delay spans zero to the ceiling', () => {
    const lowest = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    const highest = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0.999999);
    const lowDelays = [lowest.next(), lowest.next(), lowest.next()];
    const highDelays = [highest.next(), highest.next(), highest.next()];
    assert.deepEqual(lowDelays, [0, 0, 0]);
    assert.deepEqual(highDelays, [99, 199, 399]);
  });

  test('random draws stay within the ceiling', () => {
    const backoff = new Backoff({ initialDelayMs: 50, maxDelayMs: 400 });
    for (let attempt = 0; attempt < 200; attempt++) {
      const ceiling = backoff.ceilingMs(backoff.attempt);
      const delay = backoff.next();
      assert.ok(delay >= 0, `delay ${delay} is negative`);
      assert.ok(delay < ceiling, `delay ${delay} is not below the ceiling ${ceiling}`);
    }
  });

  test('reset starts from the first delay', () => {
    const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 10_000 }, () => 0.5);
    backoff.next();
    backoff.next();
    backoff.next();
    assert.equal(backoff.attempt, 3);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 50);
  });

  test('defaults are 500 ms and 30 s', () => {
    assert.deepEqual(DEFAULT_BACKOFF_POLICY, { initialDelayMs: 500, maxDelayMs: 30_000 });
    assert.deepEqual(new Backoff().policy, DEFAULT_BACKOFF_POLICY);
  });

  test('invalid bounds throw', () => {
    assert.throws(() => new Backoff({ initialDelayMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ initialDelayMs: 1000, maxDelayMs: 10 }), RangeError);
    assert.throws(() => new Backoff({ initialDelayMs: Number.NaN }), RangeError);
  });
});
