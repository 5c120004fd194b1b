import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatTypingLine } from '../src/format-typing-line.js';

const CASES: ReadonlyArray<[readonly string[], string]> = [
  [[], ''],
  [['alice'], 'alice is typing…'],
  [['alice', 'bob'], 'alice and bob are typing…'],
  [['alice', 'bob', 'carol'], 'alice, bob and carol are typing…'],
  [['alice', 'bob', 'carol', 'dave'], '4 people are typing…'],
];

test('formatTypingLine names up to three users', () => {
  for (const [names, expected] of CASES) {
    assert.equal(formatTypingLine(names), expected, `names: ${JSON.stringify(names)}`);
  }
});
