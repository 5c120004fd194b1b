import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Outbox } from '../src/outbox.js';

function filled(...ids: string[]): Outbox<string> {
  const outbox = new Outbox<string>();
  for (const id of ids) {
    outbox.add(id, `content of ${id}`, 1000);
  }
  return outbox;
}

describe('Outbox', () => {
  test('sends the oldest entry first', () => {
    const outbox = filled('a', 'b', 'c');
    const action = outbox.nextAction(1000);
    assert.equal(action.kind, 'send');
    assert.equal(action.kind === 'send' && action.entry.clientMessageId, 'a');
  });

  test('one entry in flight at a time', () => {
    const outbox = filled('a', 'b');
    outbox.markInflight('a');
    assert.deepEqual(outbox.nextAction(1000), { kind: 'idle' });
    outbox.acknowledge('a', 7);
    const next = outbox.nextAction(1000);
    assert.equal(next.kind === 'send' && next.entry.clientMessageId, 'b');
  });

  test('deferred head blocks later entries', () => {
    const outbox = filled('a', 'b');
    outbox.markInflight('a');
    outbox.defer('a', 1500);
    assert.deepEqual(outbox.nextAction(1200), { kind: 'wait', untilMs: 1500 });
    const due = outbox.nextAction(1500);
    assert.equal(due.kind === 'send' && due.entry.clientMessageId, 'a');
    assert.equal(outbox.get('a')?.failures, 1);
  });

  test('failed entry is skipped', () => {
    const outbox = filled('a', 'b');
    outbox.markInflight('a');
    outbox.fail('a', 'too_large');
    const next = outbox.nextAction(1000);
    assert.equal(next.kind === 'send' && next.entry.clientMessageId, 'b');
    assert.equal(outbox.get('a')?.status, 'failed');
    assert.equal(outbox.get('a')?.error, 'too_large');
  });

  test('requeue after disconnect keeps order and id', () => {
    const outbox = filled('a', 'b');
    outbox.markInflight('a');
    outbox.requeueInflight();
    const next = outbox.nextAction(1000);
    assert.equal(next.kind === 'send' && next.entry.clientMessageId, 'a');
    assert.equal(outbox.get('a')?.failures, 0);
  });

  test('acked entries stay until delivered', () => {
    const outbox = filled('a', 'b', 'c');
    outbox.markInflight('a');
    outbox.acknowledge('a', 10);
    outbox.markInflight('b');
    outbox.acknowledge('b', 12);
    assert.equal(outbox.size, 3);
    assert.deepEqual(
      outbox.removeDeliveredUpTo(11).map((entry) => entry.clientMessageId),
      ['a'],
    );
    assert.deepEqual(
      outbox.entries().map((entry) => entry.clientMessageId),
      ['b', 'c'],
    );
    assert.deepEqual(
      outbox.removeDeliveredUpTo(12).map((entry) => entry.clientMessageId),
      ['b'],
    );
    assert.equal(outbox.get('c')?.status, 'queued');
  });

  test('retry moves failed entry to the end', () => {
    const outbox = filled('a', 'b');
    outbox.fail('a', 'forbidden');
    const entry = outbox.retry('a', 2000);
    assert.equal(entry.status, 'queued');
    assert.equal(entry.error, undefined);
    assert.equal(entry.notBefore, 2000);
    assert.deepEqual(
      outbox.entries().map((item) => item.clientMessageId),
      ['b', 'a'],
    );
  });

  test('retry of unfailed entry throws', () => {
    const outbox = filled('a');
    assert.throws(() => outbox.retry('a', 1000), /only failed entries can be retried/);
  });

  test('failUnsent fails queued and in-flight only', () => {
    const outbox = filled('a', 'b', 'c');
    outbox.markInflight('a');
    outbox.acknowledge('a', 3);
    outbox.markInflight('b');
    const failed = outbox.failUnsent('closed');
    assert.deepEqual(
      failed.map((entry) => entry.clientMessageId),
      ['b', 'c'],
    );
    assert.equal(outbox.get('a')?.status, 'acked');
    assert.deepEqual(outbox.nextAction(1000), { kind: 'idle' });
  });

  test('acknowledge ignores unknown and failed', () => {
    const outbox = filled('a');
    outbox.fail('a', 'forbidden');
    outbox.acknowledge('a', 4);
    outbox.acknowledge('missing', 5);
    assert.equal(outbox.get('a')?.status, 'failed');
    assert.equal(outbox.get('a')?.seq, undefined);
  });

  test('duplicate id rejected', () => {
    const outbox = filled('a');
    assert.throws(() => outbox.add('a', 'again', 1000), /already contains/);
  });

  test('remove returns the entry', () => {
    const outbox = filled('a', 'b');
    assert.equal(outbox.remove('a')?.clientMessageId, 'a');
    assert.equal(outbox.remove('a'), undefined);
    assert.equal(outbox.size, 1);
  });
});
