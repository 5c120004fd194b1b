import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';

import { toWellFormedText, type UserRef } from '@confab/protocol';

import {
  StoreUnavailableError,
  type AppendRequest,
  type AppendResult,
  type MessageStore,
} from '../../src/store/message-store.js';

export interface StoreConformanceOptions {
  /**
   * Opens a new store on the same log as `store`, which the test has closed. Leave it out for a
   * store that keeps nothing after close; the reopen tests are then skipped.
   */
  reopen?: (store: MessageStore) => Promise<MessageStore>;
}

const TEST_TIMEOUT_MS = 30_000;

const ALICE: UserRef = { id: 'user-alice', name: 'Alice' };
const BOB: UserRef = { id: 'user-bob', name: 'Bob' };

/**
 * Defines the node:test suite that every `MessageStore` must pass.
 *
 * `createStore` returns a new, opened store. Stores may share one log, because each test writes to
 * rooms of its own with random names. The suite closes every store a test created, then calls
 * `cleanup`, after each test.
 *
 * @example
 * describeStoreConformance('MemoryStore', async () => {
 *   const store = new MemoryStore();
 *   await store.open();
 *   return store;
 * });
 */
export function describeStoreConformance(
  name: string,
  createStore: () => Promise<MessageStore>,
  cleanup?: () => Promise<void>,
  options: StoreConformanceOptions = {},
): void {
  describe(`${name} conformance`, () => {
    const openStores = new Set<MessageStore>();

    async function newStore(): Promise<MessageStore> {
      const store = await createStore();
      openStores.add(store);
      return store;
    }

    async function closeStore(store: MessageStore): Promise<void> {
      openStores.delete(store);
      await store.close();
    }

    async function reopenStore(store: MessageStore): Promise<MessageStore> {
      assert.ok(options.reopen, 'the test needs options.reopen');
      await closeStore(store);
      const reopened = await options.reopen(store);
      openStores.add(reopened);
      return reopened;
    }

    afterEach(async () => {
      const stores = [...openStores];
      openStores.clear();
      for (const store of stores) {
        await store.close();
      }
      await cleanup?.();
    });

    const reopenSkip = options.reopen === undefined ? 'the factory cannot reopen a store' : false;

    test('epoch is a stable non-empty string', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();

      const epoch = store.epoch;
      await store.append(message(uniqueRoom()));

      assert.equal(typeof epoch, 'string');
      assert.ok(epoch.length > 0);
      assert.equal(store.epoch, epoch);
    });

    test('check resolves while open', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();

      await store.check();
    });

    test('append assigns seq from 1 without gaps', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();

      const results: AppendResult[] = [];
      for (let i = 0; i < 5; i++) {
        results.push(await store.append(message(room)));
      }

      assert.deepEqual(
        results.map((result) => result.event.seq),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        results.map((result) => result.duplicate),
        [false, false, false, false, false],
      );
    });

    test('append returns the stored event', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const request = message(room, { content: 'hello' });

      const startedMs = Date.now();
      const { event } = await store.append(request);
      const finishedMs = Date.now();

      assert.equal(event.room, room);
      assert.equal(event.kind, 'message');
      assert.deepEqual(event.sender, ALICE);
      assert.equal(event.clientMessageId, request.clientMessageId);
      assert.equal(event.content, 'hello');
      assert.equal(typeof event.id, 'string');
      assert.ok(event.id.length > 0);
      assert.ok(Number.isInteger(event.timestamp), `timestamp ${event.timestamp} is fractional`);
      assert.ok(event.timestamp >= startedMs, `timestamp ${event.timestamp} < ${startedMs}`);
      assert.ok(event.timestamp <= finishedMs, `timestamp ${event.timestamp} > ${finishedMs}`);
    });

    test('rooms have independent seqs', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const roomA = uniqueRoom();
      const roomB = uniqueRoom();

      const a1 = await store.append(message(roomA));
      const b1 = await store.append(message(roomB));
      const a2 = await store.append(message(roomA));
      const b2 = await store.append(message(roomB));
      const a3 = await store.append(message(roomA));

      assert.deepEqual(
        [a1, a2, a3].map((result) => result.event.seq),
        [1, 2, 3],
      );
      assert.deepEqual(
        [b1, b2].map((result) => result.event.seq),
        [1, 2],
      );
    });

    test('headSeq follows appends', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const otherRoom = uniqueRoom();

      assert.equal(await store.headSeq(room), 0);
      for (let i = 0; i < 3; i++) {
        await store.append(message(room));
      }

      assert.equal(await store.headSeq(room), 3);
      assert.equal(await store.headSeq(otherRoom), 0);
    });

    test('duplicate returns the original event', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const first = await store.append(message(room, { clientMessageId: 'c-1', content: 'first' }));

      const again = await store.append(
        message(room, {
          clientMessageId: 'c-1',
          content: 'changed',
          sender: { id: ALICE.id, name: 'Alice Renamed' },
        }),
      );
      const next = await store.append(message(room));

      assert.equal(again.duplicate, true);
      assert.deepEqual(again.event, first.event);
      assert.equal(next.event.seq, 2, 'the duplicate must not take a seq');
      assert.equal(await store.headSeq(room), 2);
    });

    test('duplicate key is per room and sender', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const otherRoom = uniqueRoom();
      await store.append(message(room, { clientMessageId: 'c-1' }));

      const byBob = await store.append(message(room, { clientMessageId: 'c-1', sender: BOB }));
      const inOtherRoom = await store.append(message(otherRoom, { clientMessageId: 'c-1' }));

      assert.equal(byBob.duplicate, false);
      assert.equal(byBob.event.seq, 2);
      assert.equal(inOtherRoom.duplicate, false);
      assert.equal(inOtherRoom.event.seq, 1);
    });

    test('duplicate within one batch', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();

      const results = await Promise.all([
        store.append(message(room, { clientMessageId: 'c-a', content: 'a' })),
        store.append(message(room, { clientMessageId: 'c-a', content: 'a again' })),
        store.append(message(room, { clientMessageId: 'c-b', content: 'b' })),
        store.append(message(room, { clientMessageId: 'c-a', content: 'a third time' })),
      ]);

      const [a, aAgain, b, aThird] = results as [
        AppendResult,
        AppendResult,
        AppendResult,
        AppendResult,
      ];
      assert.equal(a.duplicate, false);
      assert.equal(a.event.seq, 1);
      assert.equal(aAgain.duplicate, true);
      assert.deepEqual(aAgain.event, a.event);
      assert.equal(b.duplicate, false);
      assert.equal(b.event.seq, 2);
      assert.equal(aThird.duplicate, true);
      assert.deepEqual(aThird.event, a.event);
      const page = await store.range({ room, limit: 10 });
      assert.deepEqual(
        page.events.map((event) => event.content),
        ['a', 'b'],
      );
    });

    test('results resolve in call order', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const resolvedOrder: number[] = [];

      const appends: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) {
        appends.push(
          store.append(message(room)).then(() => {
            resolvedOrder.push(i);
          }),
        );
      }
      await Promise.all(appends);

      assert.deepEqual(
        resolvedOrder,
        Array.from({ length: 100 }, (_, i) => i),
      );
    });

    test('concurrent rooms stay gap-free', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const rooms = [uniqueRoom(), uniqueRoom(), uniqueRoom()];
      const perRoom = 100;

      const requests: AppendRequest[] = [];
      for (let i = 0; i < perRoom * rooms.length; i++) {
        requests.push(message(rooms[i % rooms.length]!, { content: `message ${i}` }));
      }
      const results = await Promise.all(requests.map((request) => store.append(request)));

      for (const [index, room] of rooms.entries()) {
        const inCallOrder = results.filter((_, i) => i % rooms.length === index);
        assert.deepEqual(
          inCallOrder.map((result) => result.event.seq),
          Array.from({ length: perRoom }, (_, i) => i + 1),
          `seqs of ${room} in call order`,
        );
        const page = await store.range({ room, after: 0, limit: perRoom });
        assert.deepEqual(
          page.events.map((event) => event.clientMessageId),
          inCallOrder.map((result) => result.event.clientMessageId),
          `stored order of ${room}`,
        );
      }
      const ids = new Set(results.map((result) => result.event.id));
      assert.equal(ids.size, results.length, 'event ids must be unique');
    });

    test('large burst keeps call order', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const count = 1_500;

      const requests = Array.from({ length: count }, () => message(room));
      const results = await Promise.all(requests.map((request) => store.append(request)));

      assert.deepEqual(
        results.map((result) => result.event.seq),
        Array.from({ length: count }, (_, i) => i + 1),
      );
      assert.deepEqual(
        results.map((result) => result.event.clientMessageId),
        requests.map((request) => request.clientMessageId),
      );
      assert.equal(await store.headSeq(room), count);
    });

    test('range without bounds returns the newest page', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = await roomWithEvents(store, 10);

      assertPage(await store.range({ room, limit: 4 }), [7, 8, 9, 10], true);
      assertPage(await store.range({ room, limit: 10 }), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false);
      assertPage(await store.range({ room, limit: 50 }), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false);
    });

    test('range after returns the next page', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = await roomWithEvents(store, 10);

      assertPage(await store.range({ room, after: 0, limit: 4 }), [1, 2, 3, 4], true);
      assertPage(await store.range({ room, after: 4, limit: 4 }), [5, 6, 7, 8], true);
      assertPage(await store.range({ room, after: 6, limit: 4 }), [7, 8, 9, 10], false);
      assertPage(await store.range({ room, after: 8, limit: 4 }), [9, 10], false);
      assertPage(await store.range({ room, after: 10, limit: 4 }), [], false);
      assertPage(await store.range({ room, after: 25, limit: 4 }), [], false);
    });

    test('range before returns the previous page', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = await roomWithEvents(store, 10);

      assertPage(await store.range({ room, before: 11, limit: 4 }), [7, 8, 9, 10], true);
      assertPage(await store.range({ room, before: 7, limit: 4 }), [3, 4, 5, 6], true);
      assertPage(await store.range({ room, before: 5, limit: 4 }), [1, 2, 3, 4], false);
      assertPage(await store.range({ room, before: 3, limit: 4 }), [1, 2], false);
      assertPage(await store.range({ room, before: 1, limit: 4 }), [], false);
      assertPage(await store.range({ room, before: 99, limit: 2 }), [9, 10], true);
    });

    test('range with both bounds stays between them', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = await roomWithEvents(store, 10);

      assertPage(await store.range({ room, after: 2, before: 8, limit: 3 }), [3, 4, 5], true);
      const wholeGap = await store.range({ room, after: 2, before: 8, limit: 5 });
      assertPage(wholeGap, [3, 4, 5, 6, 7], false);
      assertPage(await store.range({ room, after: 5, before: 6, limit: 5 }), [], false);
    });

    test('range of an empty room', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();

      assertPage(await store.range({ room, limit: 10 }), [], false);
      assertPage(await store.range({ room, after: 0, limit: 10 }), [], false);
      assertPage(await store.range({ room, before: 5, limit: 10 }), [], false);
    });

    test('range returns the appended events', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const appended: AppendResult[] = [];
      for (const sender of [ALICE, BOB, ALICE]) {
        appended.push(await store.append(message(room, { sender })));
      }

      const page = await store.range({ room, limit: 10 });

      assert.deepEqual(
        page.events,
        appended.map((result) => result.event),
      );
    });

    test('SQL and script text stored verbatim', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const contents = [
        "'); DROP TABLE events; --",
        "Robert'); DELETE FROM rooms WHERE ('1'='1",
        '1 OR 1=1; SELECT * FROM meta',
        '$1 $2::text E\'\\x00\' %s %d ?',
        '<script>alert("x")</script><img src=x onerror=alert(1)>',
      ];
      const sender: UserRef = { id: "user'); DROP TABLE events; --", name: '<b>Mallory</b>' };

      for (const content of contents) {
        await store.append(message(room, { content, sender }));
      }
      const later = await store.append(message(room, { content: 'still works', sender }));
      const page = await store.range({ room, limit: contents.length + 1 });

      assert.deepEqual(
        page.events.map((event) => event.content),
        [...contents, 'still works'],
      );
      assert.ok(page.events.every((event) => event.sender.id === sender.id && event.sender.name === sender.name));
      assert.equal(later.event.seq, contents.length + 1, 'the log kept counting after the hostile text');
    });

    test('unicode content round-trips', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const contents = [
        'plain ascii',
        'emoji 😀🎉 and a family 👨‍👩‍👧‍👦 and a flag 🇳🇱',
        'skin tone 👋🏽, combining e\u0301, CJK 漢字かな, Hangul 한국어',
        'right to left: שלום עולם, مرحبا',
        toWellFormedText('lone surrogates \ud83d and \udc00 replaced'),
        'quotes " \' and a backslash \\ and {"json": [1, 2]}',
        'line one\nline two\r\n\ttabbed',
        '😀'.repeat(4_000),
      ];
      const sender: UserRef = { id: 'user-ünïcødé-😀', name: 'Zoë 🦊' };

      const appended: AppendResult[] = [];
      for (const content of contents) {
        appended.push(await store.append(message(room, { content, sender })));
      }
      const page = await store.range({ room, limit: contents.length });

      assert.equal(contents[4], 'lone surrogates \ufffd and \ufffd replaced');
      assert.deepEqual(
        appended.map((result) => result.event.content),
        contents,
      );
      assert.deepEqual(
        page.events.map((event) => event.content),
        contents,
      );
      for (const event of page.events) {
        assert.deepEqual(event.sender, sender);
      }
    });

    test('control characters round-trip', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const content = 'nul \u0000, bell \u0007, escape \u001b, delete \u007f, next line \u0085';

      const { event } = await store.append(message(room, { content }));
      const page = await store.range({ room, limit: 1 });

      assert.equal(event.content, content);
      assert.equal(page.events[0]?.content, content);
    });

    test('close finishes accepted appends', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();

      const appends = Array.from({ length: 50 }, () => store.append(message(room)));
      await closeStore(store);
      const results = await Promise.all(appends);

      assert.deepEqual(
        results.map((result) => result.event.seq),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    test('close rejects later requests', { timeout: TEST_TIMEOUT_MS }, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      await store.append(message(room));

      await closeStore(store);

      await assert.rejects(store.append(message(room)), StoreUnavailableError);
      await assert.rejects(store.check(), StoreUnavailableError);
    });

    const reopenTestOptions = { timeout: TEST_TIMEOUT_MS, skip: reopenSkip };

    test('reopen keeps events, epoch and seq', reopenTestOptions, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const appended: AppendResult[] = [];
      for (let i = 0; i < 3; i++) {
        appended.push(await store.append(message(room)));
      }
      const epoch = store.epoch;

      const reopened = await reopenStore(store);

      assert.equal(reopened.epoch, epoch);
      assert.equal(await reopened.headSeq(room), 3);
      const page = await reopened.range({ room, limit: 10 });
      assert.deepEqual(
        page.events,
        appended.map((result) => result.event),
      );
      const next = await reopened.append(message(room));
      assert.equal(next.event.seq, 4);
    });

    test('dedupe holds after reopen', reopenTestOptions, async () => {
      const store = await newStore();
      const room = uniqueRoom();
      const first = await store.append(message(room, { clientMessageId: 'c-1' }));

      const reopened = await reopenStore(store);
      const retry = message(room, { clientMessageId: 'c-1', content: 'retry' });
      const again = await reopened.append(retry);

      assert.equal(again.duplicate, true);
      assert.deepEqual(again.event, first.event);
      assert.equal(await reopened.headSeq(room), 1);
    });

    test('close finishes appends before reopen', reopenTestOptions, async () => {
      const store = await newStore();
      const room = uniqueRoom();

      const appends = Array.from({ length: 50 }, () => store.append(message(room)));
      const reopened = await reopenStore(store);
      const results = await Promise.all(appends);

      assert.equal(await reopened.headSeq(room), 50);
      const page = await reopened.range({ room, limit: 50 });
      assert.deepEqual(
        page.events,
        results.map((result) => result.event),
      );
    });
  });
}

function uniqueRoom(): string {
  return `room-${randomUUID()}`;
}

function message(room: string, overrides: Partial<AppendRequest> = {}): AppendRequest {
  return {
    room,
    kind: 'message',
    sender: ALICE,
    clientMessageId: randomUUID(),
    content: 'hello',
    ...overrides,
  };
}

async function roomWithEvents(store: MessageStore, count: number): Promise<string> {
  const room = uniqueRoom();
  for (let i = 1; i <= count; i++) {
    const { event } = await store.append(message(room, { content: `message ${i}` }));
    assert.equal(event.seq, i);
  }
  return room;
}

function assertPage(
  page: { events: { seq: number }[]; hasMore: boolean },
  expectedSeqs: number[],
  expectedHasMore: boolean,
): void {
  assert.deepEqual(
    page.events.map((event) => event.seq),
    expectedSeqs,
  );
  assert.equal(page.hasMore, expectedHasMore, `hasMore for seqs [${expectedSeqs.join(', ')}]`);
}
