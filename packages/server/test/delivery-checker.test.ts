import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { RoomEvent } from '@confab/protocol';

import { assertDelivery, findDeliveryViolations, type ReceivedLog, type SendAttempt } from './support/delivery-checker.js';

function event(seq: number, clientMessageId = `c${seq}`, overrides: Partial<RoomEvent> = {}): RoomEvent {
  return {
    room: 'r1',
    seq,
    id: `id-${clientMessageId}`,
    kind: 'message',
    sender: { id: 'u1', name: 'U1' },
    timestamp: 1000 + seq,
    clientMessageId,
    content: `text ${clientMessageId}`,
    ...overrides,
  };
}

function acked(seq: number, clientMessageId = `c${seq}`): SendAttempt {
  return {
    room: 'r1',
    senderId: 'u1',
    clientMessageId,
    content: `text ${clientMessageId}`,
    ack: { seq, messageId: `id-${clientMessageId}` },
  };
}

const threeSends = [acked(1), acked(2), acked(3)];

describe('findDeliveryViolations', () => {
  test('correct delivery passes', () => {
    const logs: ReceivedLog[] = [
      { client: 'a', events: [event(1), event(2), event(3)], firstSeq: { r1: 1 } },
      { client: 'b', events: [event(2), event(3)], firstSeq: { r1: 2 } },
    ];

    assert.deepEqual(findDeliveryViolations(logs, threeSends), []);
    assertDelivery(logs, threeSends);
  });

  const failures: Array<{ name: string; logs: ReceivedLog[]; sends?: SendAttempt[]; expected: RegExp }> = [
    {
      name: 'gap',
      logs: [{ client: 'a', events: [event(1), event(3)], firstSeq: { r1: 1 } }],
      expected: /a r1: expected seq 2, got 3 \(gap\)/,
    },
    {
      name: 'duplicate',
      logs: [{ client: 'a', events: [event(1), event(2), event(2), event(3)] }],
      expected: /expected seq 3, got 2 \(duplicate or reordered\)/,
    },
    {
      name: 'reordering',
      logs: [{ client: 'a', events: [event(1), event(3), event(2)] }],
      expected: /expected seq 2, got 3/,
    },
    {
      name: 'missing start of window',
      logs: [{ client: 'a', events: [event(2), event(3)], firstSeq: { r1: 1 } }],
      expected: /expected seq 1, got 2 \(gap\)/,
    },
    {
      name: 'log short of the head',
      logs: [{ client: 'a', events: [event(1), event(2)] }],
      expected: /holds up to seq 2, but seq 3 was acknowledged/,
    },
    {
      name: 'client that got nothing',
      logs: [{ client: 'a', events: [], firstSeq: { r1: 1 } }],
      expected: /a r1: holds up to seq 0, but seq 3 was acknowledged/,
    },
    {
      name: 'two clients disagree on a seq',
      logs: [
        { client: 'a', events: [event(1), event(2), event(3)] },
        { client: 'b', events: [event(1), event(2, 'c3'), event(3, 'c2')] },
      ],
      sends: [acked(1), { ...acked(2), ack: undefined }, { ...acked(3), ack: undefined }],
      expected: /r1 seq 2: b has id "id-c3" but a has "id-c2"/,
    },
    {
      name: 'event disagrees with its ack',
      logs: [{ client: 'a', events: [event(1), event(2, 'c2', { content: 'other' }), event(3)] }],
      expected: /r1 seq 2: a has content "other" but ack of c2 has "text c2"/,
    },
    {
      name: 'event nobody sent',
      logs: [{ client: 'a', events: [event(1), event(2), event(3), event(4, 'ghost')] }],
      expected: /seq 4: event ghost from u1 was never sent/,
    },
    {
      name: 'one send stored twice',
      logs: [{ client: 'a', events: [event(1), event(2), event(3), event(4, 'c2', { id: 'id-c2-again' })] }],
      sends: [...threeSends, { room: 'r1', senderId: 'u1', clientMessageId: 'c2', content: 'text c2' }],
      expected: /send r1 \/ u1 \/ c2 was stored at seqs 2, 4/,
    },
  ];

  for (const failure of failures) {
    test(`reports ${failure.name}`, () => {
      const violations = findDeliveryViolations(failure.logs, failure.sends ?? threeSends);

      assert.ok(
        violations.some((violation) => failure.expected.test(violation)),
        `expected a violation matching ${failure.expected}, got ${JSON.stringify(violations)}`,
      );
    });
  }

  test('incomplete logs pass without complete', () => {
    const logs: ReceivedLog[] = [{ client: 'a', events: [event(1)] }];

    assert.deepEqual(findDeliveryViolations(logs, threeSends, { complete: false }), []);
  });

  test('rooms are checked apart', () => {
    const other = event(1, 'o1', { room: 'r2' });
    const logs: ReceivedLog[] = [{ client: 'a', events: [event(1), other, event(2), event(3)] }];
    const sends = [...threeSends, { room: 'r2', senderId: 'u1', clientMessageId: 'o1', content: 'text o1', ack: { seq: 1, messageId: 'id-o1' } }];

    assert.deepEqual(findDeliveryViolations(logs, sends), []);
  });

  test('assertDelivery lists the violations', () => {
    assert.throws(
      () => assertDelivery([{ client: 'a', events: [event(1), event(3)] }], threeSends),
      /delivery violations:\na r1: expected seq 2, got 3 \(gap\)/,
    );
  });
});
