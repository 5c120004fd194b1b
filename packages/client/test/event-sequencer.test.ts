import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { EventSequencer } from '../src/event-sequencer.js';

const seqs = (events: Array<{ seq: number }>): number[] => events.map((event) => event.seq);
const events = (...list: number[]): Array<{ seq: number }> => list.map((seq) => ({ seq }));

describe('EventSequencer', () => {
  test('ordering, gaps and duplicates', () => {
    const cases: Array<{
      name: string;
      start: number;
      pushes: number[][];
      delivered: number[][];
      lastSeq: number;
      gap: { afterSeq: number; beforeSeq: number } | null;
    }> = [
      { name: 'in order', start: 0, pushes: [[1], [2], [3]], delivered: [[1], [2], [3]], lastSeq: 3, gap: null },
      { name: 'resumes after start', start: 10, pushes: [[11], [12]], delivered: [[11], [12]], lastSeq: 12, gap: null },
      { name: 'duplicate dropped', start: 0, pushes: [[1], [1], [2], [2]], delivered: [[1], [], [2], []], lastSeq: 2, gap: null },
      { name: 'old seq dropped', start: 5, pushes: [[3], [5], [6]], delivered: [[], [], [6]], lastSeq: 6, gap: null },
      { name: 'jump waits', start: 0, pushes: [[1], [3]], delivered: [[1], []], lastSeq: 1, gap: { afterSeq: 1, beforeSeq: 3 } },
      {
        name: 'gap filled in order',
        start: 0,
        pushes: [[1], [4], [5], [2, 3]],
        delivered: [[1], [], [], [2, 3, 4, 5]],
        lastSeq: 5,
        gap: null,
      },
      {
        name: 'fill page out of order',
        start: 0,
        pushes: [[5], [3, 1, 2, 4]],
        delivered: [[], [1, 2, 3, 4, 5]],
        lastSeq: 5,
        gap: null,
      },
      {
        name: 'partial fill keeps gap',
        start: 0,
        pushes: [[6], [1, 2]],
        delivered: [[], [1, 2]],
        lastSeq: 2,
        gap: { afterSeq: 2, beforeSeq: 6 },
      },
      {
        name: 'fill overlapping buffer',
        start: 2,
        pushes: [[5, 6], [3, 4, 5, 6, 7]],
        delivered: [[], [3, 4, 5, 6, 7]],
        lastSeq: 7,
        gap: null,
      },
      {
        name: 'duplicate while buffered',
        start: 0,
        pushes: [[2], [2], [1]],
        delivered: [[], [], [1, 2]],
        lastSeq: 2,
        gap: null,
      },
    ];

    for (const testCase of cases) {
      const sequencer = new EventSequencer<{ seq: number }>(testCase.start);
      const delivered = testCase.pushes.map((batch) => seqs(sequencer.push(events(...batch))));
      assert.deepEqual(delivered, testCase.delivered, `${testCase.name}: delivered`);
      assert.equal(sequencer.lastSeq, testCase.lastSeq, `${testCase.name}: lastSeq`);
      assert.deepEqual(sequencer.gap, testCase.gap, `${testCase.name}: gap`);
    }
  });

  test('gap reports oldest buffered seq', () => {
    const sequencer = new EventSequencer<{ seq: number }>(0);
    sequencer.push(events(9, 7, 8));
    assert.deepEqual(sequencer.gap, { afterSeq: 0, beforeSeq: 7 });
    assert.equal(sequencer.bufferedCount, 3);
  });

  test('skipGap delivers buffered events', () => {
    const sequencer = new EventSequencer<{ seq: number }>(1);
    sequencer.push(events(4, 5, 8));
    assert.deepEqual(seqs(sequencer.skipGap()), [4, 5]);
    assert.deepEqual(sequencer.gap, { afterSeq: 5, beforeSeq: 8 });
    assert.deepEqual(seqs(sequencer.skipGap()), [8]);
    assert.equal(sequencer.gap, null);
    assert.deepEqual(sequencer.skipGap(), []);
  });

  test('random arrivals deliver once in order', () => {
    // Random arrivals with duplicates, then every seq once, so that all of them end up delivered.
    let state = 12345;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(random() * 30);
      const arrivals = Array.from({ length: count * 2 }, () => 1 + Math.floor(random() * count));
      for (let seq = 1; seq <= count; seq++) {
        arrivals.push(seq);
      }
      const sequencer = new EventSequencer<{ seq: number }>(0);
      const delivered: number[] = [];
      for (const seq of arrivals) {
        delivered.push(...seqs(sequencer.push([{ seq }])));
      }
      assert.deepEqual(
        delivered,
        Array.from({ length: count }, (_, index) => index + 1),
        `round ${round}`,
      );
    }
  });
});
