import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { TokenBucket } from '../src/index.js';

const TEST_TIMEOUT_MS = 60_000;

/** A step of a table case: take one token at `atMs` and expect this wait (0 = granted). */
interface TakeStep {
  atMs: number;
  waitMs: number;
}

const CASES: { name: string; ratePerSecond: number; burst: number; steps: TakeStep[] }[] = [
  {
    name: 'burst granted at once, then one refill interval',
    ratePerSecond: 10,
    burst: 3,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 0, waitMs: 0 },
      { atMs: 0, waitMs: 0 },
      { atMs: 0, waitMs: 100 },
    ],
  },
  {
    name: 'one token back after one interval',
    ratePerSecond: 10,
    burst: 1,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 100, waitMs: 0 },
      { atMs: 100, waitMs: 100 },
    ],
  },
  {
    name: 'partial refill shortens the wait',
    ratePerSecond: 10,
    burst: 1,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 40, waitMs: 60 },
      { atMs: 50, waitMs: 50 },
      { atMs: 100, waitMs: 0 },
    ],
  },
  {
    name: 'idle refill stops at the burst',
    ratePerSecond: 10,
    burst: 2,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 0, waitMs: 0 },
      { atMs: 60_000, waitMs: 0 },
      { atMs: 60_000, waitMs: 0 },
      { atMs: 60_000, waitMs: 100 },
    ],
  },
  {
    name: 'fractional rate',
    ratePerSecond: 0.5,
    burst: 1,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 0, waitMs: 2000 },
      { atMs: 1500, waitMs: 500 },
      { atMs: 2000, waitMs: 0 },
    ],
  },
  {
    name: 'zero rate never refills',
    ratePerSecond: 0,
    burst: 1,
    steps: [
      { atMs: 0, waitMs: 0 },
      { atMs: 3_600_000, waitMs: Number.MAX_SAFE_INTEGER },
    ],
  },
  {
    name: 'clock stepping back grants nothing',
    ratePerSecond: 10,
    burst: 2,
    steps: [
      { atMs: 1000, waitMs: 0 },
      { atMs: 1000, waitMs: 0 },
      { atMs: 0, waitMs: 100 },
      { atMs: 1000, waitMs: 100 },
      { atMs: 1000, waitMs: 100 },
    ],
  },
];

describe('TokenBucket', { timeout: TEST_TIMEOUT_MS }, () => {
  for (const { name, ratePerSecond, burst, steps } of CASES) {
    test(`table: ${name}`, () => {
      const startMs = steps[0]?.atMs ?? 0;
      const bucket = new TokenBucket(ratePerSecond, burst, startMs);

      const waits = steps.map((step) => bucket.take(step.atMs));

      assert.deepEqual(waits, steps.map((step) => step.waitMs));
    });
  }

  test('isFull: fresh, drained, refilled', () => {
    const bucket = new TokenBucket(10, 2, 0);

    assert.equal(bucket.isFull(0), true);
    bucket.take(0);
    assert.equal(bucket.isFull(0), false);
    assert.equal(bucket.isFull(99), false);
    assert.equal(bucket.isFull(100), true);
  });

  test('property: taking after the wait succeeds', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (ratePerSecond, burst, gapsMs) => {
          const bucket = new TokenBucket(ratePerSecond, burst, 0);
          let nowMs = 0;
          for (const gapMs of gapsMs) {
            nowMs += gapMs;
            const waitMs = bucket.take(nowMs);
            if (waitMs > 0) {
              nowMs += waitMs;
              assert.equal(bucket.take(nowMs), 0, `no token ${waitMs} ms after a rejection at rate ${ratePerSecond}/s`);
            }
          }
        },
      ),
      { numRuns: 5_000 },
    );
  });

  test('property: grants never exceed burst plus refill', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: -200, max: 500 }), { minLength: 1, maxLength: 300 }),
        (ratePerSecond, burst, stepsMs) => {
          const bucket = new TokenBucket(ratePerSecond, burst, 0);
          let nowMs = 0;
          let latestMs = 0;
          let granted = 0;
          // Negative steps move the clock back, as a wall clock may after an NTP correction.
          for (const stepMs of stepsMs) {
            nowMs += stepMs;
            latestMs = Math.max(latestMs, nowMs);
            if (bucket.take(nowMs) === 0) {
              granted++;
            }
          }
          const allowed = burst + (latestMs * ratePerSecond) / 1000;
          assert.ok(granted <= Math.floor(allowed + 1e-6), `granted ${granted}, allowed ${allowed}`);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
