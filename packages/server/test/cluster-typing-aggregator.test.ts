import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TypingAggregator } from '../src/cluster/typing-aggregator.js';
import type { TypingChange } from '../src/typing-service.js';

const alice = { id: 'alice', name: 'Alice' };

function collect(): { changes: TypingChange[]; aggregator: TypingAggregator } {
  const changes: TypingChange[] = [];
  const aggregator = new TypingAggregator(() => (change) => changes.push(change));
  return { changes, aggregator };
}

describe('TypingAggregator', () => {
  test('one indicator for two nodes', () => {
    const { changes, aggregator } = collect();

    aggregator.report('r1', alice, 'node-a', true);
    aggregator.report('r1', alice, 'node-b', true, 10_000);
    aggregator.report('r1', alice, 'node-a', false);
    assert.deepEqual(changes, [{ room: 'r1', user: alice, typing: true }]);

    aggregator.report('r1', alice, 'node-b', false);
    assert.deepEqual(changes, [
      { room: 'r1', user: alice, typing: true },
      { room: 'r1', user: alice, typing: false },
    ]);
    aggregator.clear();
  });

  test('stop from an unknown source is ignored', () => {
    const { changes, aggregator } = collect();

    aggregator.report('r1', alice, 'node-a', false);
    aggregator.report('r1', alice, 'node-a', true);
    aggregator.report('r1', alice, 'node-b', false);

    assert.deepEqual(changes, [{ room: 'r1', user: alice, typing: true }]);
    aggregator.clear();
  });

  test('remote report expires by itself', async () => {
    const { changes, aggregator } = collect();

    aggregator.report('r1', alice, 'node-b', true, 50);
    aggregator.report('r2', alice, 'node-b', true, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 150));

    assert.deepEqual(changes, [
      { room: 'r1', user: alice, typing: true },
      { room: 'r2', user: alice, typing: true },
      { room: 'r1', user: alice, typing: false },
    ]);
    aggregator.clear();
  });

  test('renewal pushes the expiry back', async () => {
    const { changes, aggregator } = collect();

    aggregator.report('r1', alice, 'node-b', true, 1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    aggregator.report('r1', alice, 'node-b', true, 1000);
    await new Promise((resolve) => setTimeout(resolve, 800));

    assert.equal(changes.length, 1, 'still typing 1100 ms after a start that was renewed at 300 ms');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(changes.at(-1), { room: 'r1', user: alice, typing: false });
    aggregator.clear();
  });
});
