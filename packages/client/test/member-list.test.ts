import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { Member } from '@confab/protocol';

import { applyPresence } from '../src/member-list.js';

const alice: Member = { id: 'u1', name: 'alice', devices: 2 };
const bob: Member = { id: 'u2', name: 'bob', devices: 1 };

describe('applyPresence', () => {
  test('presence frames', () => {
    const cases: Array<{ name: string; before: Member[]; action: 'join' | 'leave'; user: { id: string; name: string }; after: Member[] }> = [
      { name: 'join adds one device', before: [alice], action: 'join', user: { id: 'u2', name: 'bob' }, after: [alice, bob] },
      { name: 'join of listed user', before: [alice], action: 'join', user: { id: 'u1', name: 'alice' }, after: [alice] },
      { name: 'leave removes all devices', before: [alice, bob], action: 'leave', user: { id: 'u1', name: 'alice' }, after: [bob] },
      { name: 'leave of unknown user', before: [bob], action: 'leave', user: { id: 'u9', name: 'zed' }, after: [bob] },
      { name: 'join into empty room', before: [], action: 'join', user: { id: 'u2', name: 'bob' }, after: [bob] },
    ];
    for (const testCase of cases) {
      const before = [...testCase.before];
      assert.deepEqual(applyPresence(testCase.before, testCase.action, testCase.user), testCase.after, testCase.name);
      assert.deepEqual(testCase.before, before, `${testCase.name}: input untouched`);
    }
  });

  test('unchanged list keeps identity', () => {
    const members = [alice];
    assert.equal(applyPresence(members, 'join', alice), members);
    assert.equal(applyPresence(members, 'leave', bob), members);
    assert.notEqual(applyPresence(members, 'join', bob), members);
  });
});
