import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import {
  CLIENT_FRAME_SCHEMAS,
  decodeClientFrame,
  ERROR_CODES,
  MAX_FRAME_NESTING_DEPTH,
  MAX_REQUEST_ID_LENGTH,
  type DecodeResult,
} from '../src/index.js';

const TEST_TIMEOUT_MS = 120_000;
/** Longest `message` an error may carry: error replies must not echo unbounded client input. */
const MAX_ERROR_MESSAGE_LENGTH = 400;
/** Longest `field` path an error may carry, for the same reason. */
const MAX_ERROR_FIELD_LENGTH = 200;
const KNOWN_TYPES = [...CLIENT_FRAME_SCHEMAS.keys()];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const FRAME_FIELDS = [
  'type',
  'requestId',
  'room',
  'token',
  'guest',
  'since',
  'epoch',
  'clientMessageId',
  'content',
  'before',
  'after',
  'limit',
  'typing',
];

interface TableCase {
  name: string;
  text: string;
  code?: string;
  field?: string;
  requestId?: string;
  frame?: Record<string, unknown>;
}

const CASES: TableCase[] = [
  { name: 'bare word', text: 'hello', code: 'invalid_frame' },
  { name: 'empty text', text: '', code: 'invalid_frame' },
  { name: 'whitespace', text: '  \n', code: 'invalid_frame' },
  { name: 'truncated object', text: '{"type":"ping"', code: 'invalid_frame' },
  { name: 'null', text: 'null', code: 'invalid_frame' },
  { name: 'array', text: '[]', code: 'invalid_frame' },
  { name: 'array of frames', text: '[{"type":"ping","requestId":"a"}]', code: 'invalid_frame' },
  { name: 'string', text: '"ping"', code: 'invalid_frame' },
  { name: 'number', text: '42', code: 'invalid_frame' },
  { name: 'boolean', text: 'true', code: 'invalid_frame' },
  { name: 'object without type', text: '{}', code: 'invalid_frame' },
  { name: 'numeric type', text: '{"type":1}', code: 'invalid_frame' },
  { name: 'null type', text: '{"type":null}', code: 'invalid_frame' },
  { name: 'type only on __proto__', text: '{"__proto__":{"type":"ping"},"requestId":"a"}', code: 'invalid_frame', requestId: 'a' },
  { name: 'server frame type', text: '{"type":"error"}', code: 'unknown_type' },
  { name: 'welcome type', text: '{"type":"welcome","requestId":"a"}', code: 'unknown_type', requestId: 'a' },
  { name: '__proto__ type', text: '{"type":"__proto__"}', code: 'unknown_type' },
  { name: 'constructor type', text: '{"type":"constructor"}', code: 'unknown_type' },
  { name: 'prototype type', text: '{"type":"prototype"}', code: 'unknown_type' },
  { name: 'toString type', text: '{"type":"toString","requestId":"a"}', code: 'unknown_type', requestId: 'a' },
  { name: 'type in other case', text: '{"type":"PING","requestId":"a"}', code: 'unknown_type', requestId: 'a' },
  {
    name: 'send with object room and number content',
    text: '{"type":"send","requestId":"s1","room":{},"clientMessageId":"c1","content":42}',
    code: 'invalid_field',
    field: 'room',
    requestId: 's1',
  },
  {
    name: 'send with number content',
    text: '{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":42}',
    code: 'invalid_field',
    field: 'content',
    requestId: 's1',
  },
  {
    name: 'send without clientMessageId',
    text: '{"type":"send","requestId":"s1","room":"r1","content":"hi"}',
    code: 'invalid_field',
    field: 'clientMessageId',
  },
  {
    name: 'own __proto__ field',
    text: '{"type":"ping","requestId":"p1","__proto__":{"admin":true}}',
    code: 'invalid_field',
    field: '__proto__',
  },
  { name: 'constructor field', text: '{"type":"ping","requestId":"p1","constructor":{}}', code: 'invalid_field', field: 'constructor' },
  {
    name: 'nested __proto__ field',
    text: '{"type":"auth","requestId":"a1","guest":{"name":"Ada","__proto__":{"admin":true}}}',
    code: 'invalid_field',
    field: 'guest.__proto__',
  },
  { name: 'room with a space', text: '{"type":"join","requestId":"j1","room":"r 1"}', code: 'invalid_field', field: 'room' },
  { name: 'room too long', text: `{"type":"join","requestId":"j1","room":"${'r'.repeat(65)}"}`, code: 'invalid_field', field: 'room' },
  { name: 'since overflowing to Infinity', text: '{"type":"join","requestId":"j1","room":"r1","since":1e400}', code: 'invalid_field', field: 'since' },
  {
    name: 'since past the safe integers',
    text: '{"type":"join","requestId":"j1","room":"r1","since":9007199254740993}',
    code: 'invalid_field',
    field: 'since',
  },
  { name: 'negative since', text: '{"type":"join","requestId":"j1","room":"r1","since":-1}', code: 'invalid_field', field: 'since' },
  { name: 'fractional since', text: '{"type":"join","requestId":"j1","room":"r1","since":1.5}', code: 'invalid_field', field: 'since' },
  { name: 'limit of zero', text: '{"type":"history","requestId":"h1","room":"r1","limit":0}', code: 'invalid_field', field: 'limit' },
  { name: 'before of zero', text: '{"type":"history","requestId":"h1","room":"r1","before":0}', code: 'invalid_field', field: 'before' },
  { name: 'typing as a string', text: '{"type":"typing","room":"r1","typing":"yes"}', code: 'invalid_field', field: 'typing' },
  { name: 'requestId too long', text: `{"type":"ping","requestId":"${'x'.repeat(MAX_REQUEST_ID_LENGTH + 1)}"}`, code: 'invalid_field', field: 'requestId' },
  { name: 'numeric requestId', text: '{"type":"ping","requestId":7}', code: 'invalid_field', field: 'requestId' },
  { name: 'ping', text: '{"type":"ping","requestId":"p1"}', frame: { type: 'ping', requestId: 'p1' } },
  {
    name: 'join with since and epoch',
    text: '{"type":"join","requestId":"j1","room":"team-a:general","since":0,"epoch":"e1"}',
    frame: { type: 'join', requestId: 'j1', room: 'team-a:general', since: 0, epoch: 'e1' },
  },
  {
    name: 'send with a lone surrogate',
    text: '{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":"a\\ud83db"}',
    frame: { type: 'send', requestId: 's1', room: 'r1', clientMessageId: 'c1', content: 'a\ud83db' },
  },
  {
    name: 'duplicate type key, last wins',
    text: '{"type":"ping","requestId":"a1","type":"auth"}',
    frame: { type: 'auth', requestId: 'a1' },
  },
  { name: 'typing stop', text: '{"type":"typing","room":"r1","typing":false}', frame: { type: 'typing', room: 'r1', typing: false } },
];

/** Checks the invariants of any decode result; throws an assertion error naming the one broken. */
function assertWellFormedResult(text: string, result: DecodeResult): void {
  assert.equal(typeof result, 'object');
  if (result.ok) {
    const schema = CLIENT_FRAME_SCHEMAS.get(result.frame.type);
    assert.ok(schema !== undefined, `decoded frame has unknown type ${result.frame.type}`);
    assert.equal(schema.safeParse(result.frame).success, true, `decoded frame fails its schema: ${text.slice(0, 200)}`);
    assert.equal(Object.getPrototypeOf(result.frame), Object.prototype);
    // Compared as JSON, where -0 and 0 are the same number.
    assert.equal(JSON.stringify(decodeClientFrame(JSON.stringify(result.frame))), JSON.stringify(result));
    return;
  }

  const { error } = result;
  assert.ok(Object.hasOwn(ERROR_CODES, error.code), `error code ${error.code} is not in the catalog`);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.ok(error.message.length <= MAX_ERROR_MESSAGE_LENGTH, `error message is ${error.message.length} characters long`);
  if (error.requestId !== undefined) {
    assert.equal(typeof error.requestId, 'string');
    assert.ok(error.requestId.length >= 1, 'empty requestId');
    assert.ok(error.requestId.length <= MAX_REQUEST_ID_LENGTH, `requestId is ${error.requestId.length} characters long`);
  }
  if (error.field !== undefined) {
    assert.equal(typeof error.field, 'string');
    assert.ok(error.field.length <= MAX_ERROR_FIELD_LENGTH, `error field is ${error.field.length} characters long`);
  }
  for (const key of Object.keys(error)) {
    assert.ok(['code', 'message', 'requestId', 'field'].includes(key), `unexpected error key ${key}`);
  }
}

function decodeAndCheck(text: string): DecodeResult {
  const result = decodeClientFrame(text);
  assertWellFormedResult(text, result);
  return result;
}

/** One UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/** JSON texts that JSON.stringify cannot produce: numbers out of range or past double precision. */
const extremeNumberText = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '123456789012345678901234567890',
  '9007199254740993',
  '-9007199254740993',
  '0.30000000000000004',
  '1E+2',
);

/** Values for a frame field, written as JSON text. */
const fieldValueText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('"r1"', '"team-a:general"', '"c-1"', '"Ada"', 'true', 'false', 'null', '0', '1', '100', '{}', '[]'),
  fc.constantFrom('{"name":"Ada"}', '{"name":"Ada","__proto__":{}}', '{"__proto__":{"admin":true}}', '{"constructor":1}'),
  extremeNumberText,
  fc.integer().map(String),
  fc.double().map((value) => JSON.stringify(value)),
  fc.string({ unit: utf16Unit, maxLength: 80 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 80 }).map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
);

const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FRAME_FIELDS) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: utf16Unit, maxLength: 300 }) },
);

const frameType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KNOWN_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'error', 'welcome', 'event', '') },
  { weight: 1, arbitrary: fc.string({ unit: utf16Unit, maxLength: 200 }) },
);

/** Object texts with a `type` and random fields, built by hand so `__proto__` stays an own key. */
const frameShapedText = fc
  .tuple(frameType, fc.array(fc.tuple(fieldName, fieldValueText), { maxLength: 8 }))
  .map(([type, entries]) => {
    const members = [`"type":${JSON.stringify(type)}`, ...entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`)];
    return `{${members.join(',')}}`;
  });

const roomName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/);
const requestId = fc.string({ unit: utf16Unit, minLength: 1, maxLength: MAX_REQUEST_ID_LENGTH });
const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** Frames valid for their schema, so that the property also covers the `ok: true` path. */
const validFrame: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('ping'), requestId }),
  fc.record(
    { type: fc.constant('auth'), requestId, token: fc.string({ minLength: 1, maxLength: 40 }) },
    { requiredKeys: ['type', 'requestId'] },
  ),
  fc.record({ type: fc.constant('auth'), requestId, guest: fc.record({ name: fc.string({ unit: utf16Unit }) }) }),
  fc.record(
    { type: fc.constant('join'), requestId, room: roomName, since: fc.nat(), epoch: fc.string({ minLength: 1, maxLength: 64 }) },
    { requiredKeys: ['type', 'requestId', 'room'] },
  ),
  fc.record({ type: fc.constant('leave'), requestId, room: roomName }),
  fc.record({
    type: fc.constant('send'),
    requestId,
    room: roomName,
    clientMessageId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    content: fc.string({ unit: utf16Unit, maxLength: 200 }),
  }),
  fc.record(
    { type: fc.constant('history'), requestId, room: roomName, before: seq, after: fc.nat(), limit: fc.integer({ min: 1 }) },
    { requiredKeys: ['type', 'requestId', 'room'] },
  ),
  fc.record(
    { type: fc.constant('typing'), requestId, room: roomName, typing: fc.boolean() },
    { requiredKeys: ['type', 'room', 'typing'] },
  ),
);

/** A valid frame with at most one change: a field dropped, added, or given another value. */
const mutatedFrameText = fc
  .tuple(validFrame, fc.nat(), fieldName, fieldValueText, fc.constantFrom('none', 'drop', 'add', 'replace'))
  .map(([frame, index, extraKey, extraValue, mutation]) => {
    const entries = Object.entries(frame).map(([key, value]) => [key, JSON.stringify(value)] as [string, string]);
    const target = index % entries.length;
    if (mutation === 'drop') {
      entries.splice(target, 1);
    } else if (mutation === 'add') {
      entries.push([extraKey, extraValue]);
    } else if (mutation === 'replace') {
      const entry = entries[target];
      if (entry !== undefined) {
        entry[1] = extraValue;
      }
    }
    return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
  });

describe('decodeClientFrame', { timeout: TEST_TIMEOUT_MS }, () => {
  for (const testCase of CASES) {
    test(`table: ${testCase.name}`, () => {
      const result = decodeAndCheck(testCase.text);

      if (testCase.frame !== undefined) {
        assert.equal(result.ok, true, JSON.stringify(result));
        assert.deepEqual(result.ok ? result.frame : undefined, testCase.frame);
        return;
      }
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.code, testCase.code);
      if (testCase.field !== undefined) {
        assert.equal(result.error.field, testCase.field);
      }
      if (testCase.requestId !== undefined) {
        assert.equal(result.error.requestId, testCase.requestId);
      }
    });
  }

  test('deeply nested arrays: invalid_frame', () => {
    const depth = 500_000;
    const result = decodeAndCheck(`${'['.repeat(depth)}${']'.repeat(depth)}`);

    assert.equal(result.ok ? undefined : result.error.code, 'invalid_frame');
  });

  test('deeply nested objects: invalid_frame', () => {
    const depth = 200_000;
    const result = decodeAndCheck(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

    assert.equal(result.ok ? undefined : result.error.code, 'invalid_frame');
  });

  test('deep nesting in a field: invalid_frame', () => {
    const depth = 200_000;
    const text = `{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const result = decodeAndCheck(text);

    assert.equal(result.ok ? undefined : result.error.code, 'invalid_frame');
    assert.match(result.ok ? '' : result.error.message, /nests deeper than 16 levels/);
  });

  test('nesting at the depth cap: decoded', () => {
    // The frame object is level 1, so the content may open 15 more.
    const depth = MAX_FRAME_NESTING_DEPTH - 1;
    const text = `{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const result = decodeAndCheck(text);

    assert.equal(result.ok ? undefined : result.error.code, 'invalid_field');
    assert.equal(result.ok ? undefined : result.error.field, 'content');
  });

  test('brackets inside strings: not nesting', () => {
    const content = `${'[{'.repeat(100)}\\"${'}]'.repeat(100)}`;
    const result = decodeAndCheck(
      `{"type":"send","requestId":"s1","room":"r1","clientMessageId":"c1","content":"${content}"}`,
    );

    assert.equal(result.ok, true);
  });

  test('huge unknown key: bounded error', () => {
    const key = 'k'.repeat(100_000);
    const result = decodeAndCheck(`{"type":"ping","requestId":"p1",${JSON.stringify(key)}:1}`);

    assert.equal(result.ok ? undefined : result.error.code, 'invalid_field');
  });

  test('huge unknown type: bounded error', () => {
    const result = decodeAndCheck(JSON.stringify({ type: 't'.repeat(100_000) }));

    assert.equal(result.ok ? undefined : result.error.code, 'unknown_type');
  });

  test('property: any UTF-16 string', () => {
    fc.assert(
      fc.property(fc.string({ unit: utf16Unit, maxLength: 300 }), (text) => {
        decodeAndCheck(text);
      }),
      { numRuns: 20_000 },
    );
  });

  test('property: any printable or full-Unicode string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        decodeAndCheck(text);
      }),
      { numRuns: 20_000 },
    );
  });

  test('property: JSON of any value', () => {
    const anyJsonText = fc.oneof(
      fc.json({ maxDepth: 6 }),
      fc
        .anything({ maxDepth: 5, withNullPrototype: true, withObjectString: true })
        .map((value) => JSON.stringify(value))
        .filter((text): text is string => typeof text === 'string'),
    );
    fc.assert(
      fc.property(anyJsonText, (text) => {
        decodeAndCheck(text);
      }),
      { numRuns: 20_000 },
    );
  });

  test('property: frame-shaped objects with random fields', () => {
    let decoded = 0;
    fc.assert(
      fc.property(frameShapedText, (text) => {
        if (decodeAndCheck(text).ok) {
          decoded++;
        }
      }),
      { numRuns: 30_000 },
    );

    // The property must also reach frames that decode, or it checks only the error path.
    assert.ok(decoded > 0, 'no generated frame decoded');
  });

  test('property: valid frames with one mutation', () => {
    let decoded = 0;
    let rejected = 0;
    fc.assert(
      fc.property(mutatedFrameText, (text) => {
        if (decodeAndCheck(text).ok) {
          decoded++;
        } else {
          rejected++;
        }
      }),
      { numRuns: 30_000 },
    );

    assert.ok(decoded > 1000, `only ${decoded} frames decoded`);
    assert.ok(rejected > 1000, `only ${rejected} frames were rejected`);
  });

  test('property: Object.prototype untouched', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(frameShapedText, (text) => {
        decodeClientFrame(text);
      }),
      { numRuns: 5_000 },
    );

    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
    assert.equal(({} as Record<string, unknown>)['admin'], undefined);
  });
});
