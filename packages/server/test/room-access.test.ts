import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { RoomAccess } from '../src/index.js';

// Bounds every case, including a matcher that backtracks for minutes on a pattern of many stars.
const TEST_TIMEOUT_MS = 20_000;

const CASES: { name: string; entries: string[] | undefined; allowed: string[]; denied: string[] }[] = [
  { name: 'no claim allows every room', entries: undefined, allowed: ['r1', 'lobby', 'team-a:general'], denied: [] },
  { name: 'empty claim allows none', entries: [], allowed: [], denied: ['r1', 'lobby'] },
  { name: 'exact name', entries: ['lobby'], allowed: ['lobby'], denied: ['lobby2', 'Lobby', 'lob', 'xlobby'] },
  {
    name: 'trailing star',
    entries: ['team-*'],
    allowed: ['team-a', 'team-', 'team-a.b:c'],
    denied: ['team', 'xteam-a', 'Team-a'],
  },
  { name: 'leading star', entries: ['*-admin'], allowed: ['x-admin', '-admin'], denied: ['x-admin2', 'admin'] },
  { name: 'lone star', entries: ['*'], allowed: ['r1', 'lobby', 'a'], denied: [] },
  { name: 'double star', entries: ['**'], allowed: ['r1', 'a'], denied: [] },
  { name: 'inner stars', entries: ['a*b*c'], allowed: ['abc', 'aXbYc', 'abbc', 'abcbc'], denied: ['acb', 'abcx', 'xabc', 'ab'] },
  { name: 'dot is literal', entries: ['a.b*'], allowed: ['a.b', 'a.b1'], denied: ['axb1', 'a-b'] },
  { name: 'regex characters are literal', entries: ['r(1)+*'], allowed: ['r(1)+x'], denied: ['r1x', 'rr1x'] },
  { name: 'several entries', entries: ['lobby', 'team-*'], allowed: ['lobby', 'team-x'], denied: ['other', 'lobby-x'] },
];

/** Reference wildcard match by dynamic programming: `*` matches any run of characters. */
function referenceMatch(pattern: string, text: string): boolean {
  // matches[j] is whether pattern[0, i) matches text[0, j) for the current i.
  let matches = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const char of pattern) {
    const next = Array.from({ length: text.length + 1 }, () => false);
    for (let j = 0; j <= text.length; j++) {
      if (char === '*') {
        next[j] = (matches[j] ?? false) || (j > 0 && (next[j - 1] ?? false));
      } else {
        next[j] = j > 0 && (matches[j - 1] ?? false) && text[j - 1] === char;
      }
    }
    matches = next;
  }
  return matches[text.length] ?? false;
}

describe('RoomAccess', { timeout: TEST_TIMEOUT_MS }, () => {
  for (const { name, entries, allowed, denied } of CASES) {
    test(`table: ${name}`, () => {
      const access = new RoomAccess(entries);

      for (const room of allowed) {
        assert.equal(access.allows(room), true, `${room} should be allowed by ${JSON.stringify(entries)}`);
      }
      for (const room of denied) {
        assert.equal(access.allows(room), false, `${room} should be denied by ${JSON.stringify(entries)}`);
      }
    });
  }

  test('many stars: no catastrophic backtracking', () => {
    const access = new RoomAccess(['*a*a*a*a*a*a*a*a*a*a*a*a*b']);

    assert.equal(access.allows('a'.repeat(64)), false);
    assert.equal(access.allows(`${'a'.repeat(63)}b`), true);
  });

  test('property: matches the reference matcher', () => {
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '*', '.'), maxLength: 12 });
    const room = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 16 });
    fc.assert(
      fc.property(pattern, room, (entry, name) => {
        assert.equal(new RoomAccess([entry]).allows(name), referenceMatch(entry, name));
      }),
      { numRuns: 20_000 },
    );
  });
});
