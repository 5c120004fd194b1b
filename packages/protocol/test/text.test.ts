import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { countCodePoints, toWellFormedText } from '../src/index.js';

const TEST_TIMEOUT_MS = 60_000;
// ignoreBOM keeps a leading U+FEFF in the decoded text, so that a round trip compares equal.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

describe('countCodePoints', { timeout: TEST_TIMEOUT_MS }, () => {
  const cases: { name: string; text: string; count: number }[] = [
    { name: 'empty', text: '', count: 0 },
    { name: 'ASCII', text: 'abc', count: 3 },
    { name: 'precomposed accent', text: '\u00e9', count: 1 },
    { name: 'combining accent', text: 'e\u0301', count: 2 },
    { name: 'astral emoji', text: '\u{1f600}', count: 1 },
    { name: 'two astral emoji', text: '\u{1f600}\u{1f601}', count: 2 },
    { name: 'flag of two regional indicators', text: '\u{1f1eb}\u{1f1f7}', count: 2 },
    { name: 'lone high surrogate', text: '\ud83d', count: 1 },
    { name: 'lone low surrogate', text: '\ude00', count: 1 },
    { name: 'low before high', text: '\ude00\ud83d', count: 2 },
    { name: 'lone surrogate between letters', text: 'a\ud83db', count: 3 },
    { name: 'high surrogate then a pair', text: '\ud83d\ud83d\ude00', count: 2 },
    { name: 'high surrogate at the end', text: 'ab\ud83d', count: 3 },
  ];
  for (const { name, text, count } of cases) {
    test(`table: ${name}`, () => {
      assert.equal(countCodePoints(text), count);
    });
  }

  test('property: equals string iteration', () => {
    fc.assert(
      fc.property(fc.string({ unit: utf16Unit, maxLength: 200 }), (text) => {
        assert.equal(countCodePoints(text), [...text].length);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('toWellFormedText', { timeout: TEST_TIMEOUT_MS }, () => {
  const cases: { name: string; text: string; expected: string }[] = [
    { name: 'empty', text: '', expected: '' },
    { name: 'ASCII', text: 'abc', expected: 'abc' },
    { name: 'astral emoji kept', text: '\u{1f600}', expected: '\u{1f600}' },
    { name: 'lone high surrogate', text: 'a\ud83db', expected: 'a\ufffdb' },
    { name: 'lone low surrogate', text: '\ude00', expected: '\ufffd' },
    { name: 'low before high', text: '\ude00\ud83d', expected: '\ufffd\ufffd' },
    { name: 'high surrogate then a pair', text: '\ud83d\ud83d\ude00', expected: '\ufffd\u{1f600}' },
    { name: 'replacement character kept', text: '\ufffd', expected: '\ufffd' },
  ];
  for (const { name, text, expected } of cases) {
    test(`table: ${name}`, () => {
      assert.equal(toWellFormedText(text), expected);
    });
  }

  test('property: output encodes to valid UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: utf16Unit, maxLength: 200 }), (text) => {
        const wellFormed = toWellFormedText(text);

        assert.equal(STRICT_UTF8.decode(new TextEncoder().encode(wellFormed)), wellFormed);
        assert.equal(wellFormed.length, text.length);
        assert.equal(countCodePoints(wellFormed), countCodePoints(text));
      }),
      { numRuns: 20_000 },
    );
  });

  test('property: well-formed text unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        assert.equal(toWellFormedText(text), text);
      }),
      { numRuns: 20_000 },
    );
  });
});
