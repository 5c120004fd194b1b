import { CLOSE_CODES, decodeClientFrame } from '@confab/protocol';
import fc from 'fast-check';

/** Replaced by the server's real epoch before a frame is sent, so that some resumes can succeed. */
export const EPOCH_PLACEHOLDER = '$EPOCH';
/** Rooms the fuzzer joins and sends to. The bystanders' room is never among them. */
export const FUZZ_ROOMS = ['fuzz-a', 'fuzz-b', 'fuzz-c'] as const;
/** Request ids of this prefix are kept for the runner's own ping frames. */
export const SENTINEL_PREFIX = 'sentinel-';

/**
 * One frame the fuzzer sends. `text` is a text frame of UTF-8 text. `bytes` is a text frame whose
 * payload is sent as it is, valid UTF-8 or not. `binary` is a binary frame, `opcode` a frame with a
 * reserved opcode, and `oversized` a text frame that many bytes over the server's frame limit.
 */
export type FuzzFrame =
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'opcode'; opcode: number }
  | { kind: 'oversized'; extraBytes: number };

/** What the server must do with a frame: reply (or stay silent, for a valid typing frame), or close. */
export type ExpectedOutcome = { kind: 'reply'; maybeSilent: boolean; text: string } | { kind: 'close'; code: number };

/** A JSON object as key and raw value text pairs, so that keys can repeat and numbers overflow. */
type ObjectEntries = Array<[string, string]>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Returns the outcome protocol v1 documents for `frame`, given the server's frame limit in bytes. */
export function expectedOutcome(frame: FuzzFrame, maxFrameBytes: number): ExpectedOutcome {
  switch (frame.kind) {
    case 'binary':
      return { kind: 'close', code: CLOSE_CODES.unsupportedData };
    case 'opcode':
      return { kind: 'close', code: CLOSE_CODES.protocolError };
    case 'oversized':
      return { kind: 'close', code: CLOSE_CODES.messageTooBig };
    case 'bytes': {
      let text: string;
      try {
        text = utf8.decode(frame.bytes);
      } catch {
        return { kind: 'close', code: CLOSE_CODES.invalidPayload };
      }
      return textOutcome(text, frame.bytes.length, maxFrameBytes);
    }
    case 'text':
      return textOutcome(frame.text, Buffer.byteLength(frame.text), maxFrameBytes);
  }
}

function textOutcome(text: string, byteLength: number, maxFrameBytes: number): ExpectedOutcome {
  if (byteLength > maxFrameBytes) {
    return { kind: 'close', code: CLOSE_CODES.messageTooBig };
  }
  // A valid typing frame is the one request with no reply when it succeeds.
  const decoded = decodeClientFrame(text);
  return { kind: 'reply', maybeSilent: decoded.ok && decoded.frame.type === 'typing', text };
}

/** Returns the payload bytes of an `oversized` frame: a ping padded past the limit. */
export function oversizedPayload(maxFrameBytes: number, extraBytes: number): Buffer {
  const head = '{"type":"ping","requestId":"oversized","pad":"';
  const tail = '"}';
  const padding = Math.max(0, maxFrameBytes + extraBytes - head.length - tail.length);
  return Buffer.from(`${head}${'x'.repeat(padding)}${tail}`);
}

function objectText(entries: ObjectEntries): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

// Strings: mostly printable, with lone surrogates, control characters and astral code points.
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
const controlCharacter = fc.integer({ min: 0, max: 0x9f }).filter((code) => code < 0x20 || code >= 0x7f).map((code) => String.fromCharCode(code));
const oddUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: controlCharacter },
  { weight: 1, arbitrary: fc.constantFrom('\u{1F600}', '\uFEFF', '\u0000', '\u2028', '"', '\\') },
);
const oddString = fc.string({ maxLength: 24, unit: oddUnit });

const requestId = fc.oneof(
  { weight: 12, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: oddString },
  { weight: 1, arbitrary: fc.string({ minLength: 65, maxLength: 80 }) },
).filter((id) => !id.startsWith(SENTINEL_PREFIX));
// Mostly the first room, so that frames often name the room the connection has joined.
const fuzzRoom = fc.oneof({ weight: 4, arbitrary: fc.constant(FUZZ_ROOMS[0]) }, { weight: 1, arbitrary: fc.constantFrom(...FUZZ_ROOMS) });
const room = fc.oneof(
  { weight: 10, arbitrary: fuzzRoom },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{0,64}$/).map((name) => `fuzz-${name}`) },
  { weight: 1, arbitrary: oddString.map((name) => `fuzz-${name}`) },
);
const content = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
  { weight: 3, arbitrary: oddString },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n\t', '\u00A0') },
  { weight: 1, arbitrary: fc.integer({ min: 3990, max: 4010 }).map((length) => 'y'.repeat(length)) },
);
const guestName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('fuzzer', 'Zoë', '  padded  ') },
  { weight: 2, arbitrary: oddString },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 70 }) },
);
/**
 * Guest keys shared by every fuzzer, so that several connections act as one user: its rate limit
 * then runs out, and its connections count against one another.
 */
const SHARED_GUEST_KEYS = ['fuzz-shared-key-0001', 'fuzz-shared-key-0002', 'fuzz-shared-key-0003'] as const;
const guestKey = fc.oneof(fc.constantFrom(...SHARED_GUEST_KEYS), fc.stringMatching(/^[A-Za-z0-9_-]{16,24}$/));

const text = (value: unknown): string => JSON.stringify(value);

/** Builds entries from key-value pairs, leaving out the undefined ones, JSON-encoding the values. */
function entriesOf(fields: Record<string, unknown>): ObjectEntries {
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => [key, text(value)]);
}

/** Well-formed frames of every type a client may send. */
const validEntries: fc.Arbitrary<ObjectEntries> = fc.oneof(
  fc.record({ requestId, name: guestName, key: fc.option(guestKey, { nil: undefined }) }).map(({ requestId: id, name, key }) =>
    entriesOf({ type: 'auth', requestId: id, guest: key === undefined ? { name } : { name, key } }),
  ),
  fc.record({ requestId, token: fc.string({ minLength: 1, maxLength: 40 }) }).map((fields) => entriesOf({ type: 'auth', ...fields })),
  fc
    .record({ requestId, room, since: fc.option(fc.nat(60), { nil: undefined }), epoch: fc.option(fc.constantFrom(EPOCH_PLACEHOLDER, 'another-epoch'), { nil: undefined }) })
    .map((fields) => entriesOf({ type: 'join', ...fields })),
  fc.record({ requestId, room }).map((fields) => entriesOf({ type: 'leave', ...fields })),
  {
    // Sends the most, so that the store, the fan-out and the rate limit get exercised.
    weight: 4,
    arbitrary: fc
      .record({ requestId, room, clientMessageId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), content })
      .map((fields) => entriesOf({ type: 'send', ...fields })),
  },
  fc
    .record({
      requestId,
      room,
      before: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }),
      after: fc.option(fc.nat(80), { nil: undefined }),
      limit: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
    })
    .map((fields) => entriesOf({ type: 'history', ...fields })),
  fc.record({ requestId: fc.option(requestId, { nil: undefined }), room, typing: fc.boolean() }).map((fields) => entriesOf({ type: 'typing', ...fields })),
  requestId.map((id) => entriesOf({ type: 'ping', requestId: id })),
);

/** Raw JSON value texts that a schema must reject or survive: wrong types, overflow, depth. */
const hostileValueText = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(text) },
  { weight: 2, arbitrary: oddString.map(text) },
  { weight: 2, arbitrary: fc.constantFrom('1e400', '-1e400', '1e308', '9007199254740993', '123456789012345678901234567890', '-0', '0.5', '-1', '1E2', 'true', 'null', '{}', '[]') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`) },
);
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'timestamp', 'type', 'requestId', 'room', 'seq'),
  fc.string({ maxLength: 10 }),
);
const hostileType = fc.constantFrom('Send', 'send ', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'error', 'welcome', 'event', 'sent');

/** A valid frame with one thing wrong: a field's value or type, a missing or extra key, the type. */
const nearValidEntries: fc.Arbitrary<ObjectEntries> = fc
  .tuple(validEntries, fc.nat(), fc.integer({ min: 0, max: 3 }), hostileKey, hostileValueText, hostileType)
  .map(([entries, index, mutation, key, value, type]) => {
    const copy: ObjectEntries = entries.map(([name, raw]) => [name, raw]);
    const position = index % copy.length;
    switch (mutation) {
      case 0:
        (copy[position] as [string, string])[1] = value;
        break;
      case 1:
        copy.splice(position, 1);
        break;
      case 2:
        copy.splice(position, 0, [key, value]);
        break;
      default:
        copy.splice(0, 1, ['type', text(type)]);
    }
    return copy;
  });

/** Text that is not a JSON object frame at all, or only a piece of one. */
const invalidText = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map(text),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('hello', 'null', '[]', '{}', '', ' ', '{"type":"error"}', '{"type":"__proto__"}', '{"type":"constructor"}', '{"__proto__":{"type":"ping","requestId":"p"}}', 'NaN', '{"type":"ping","requestId":"x"', '\uFEFF{"type":"ping","requestId":"bom"}'),
  fc.tuple(validEntries, fc.nat()).map(([entries, cut]) => {
    const whole = objectText(entries);
    return whole.slice(0, cut % whole.length);
  }),
);

const textFrameText = fc.oneof(
  { weight: 4, arbitrary: validEntries.map(objectText) },
  { weight: 4, arbitrary: nearValidEntries.map(objectText) },
  { weight: 2, arbitrary: invalidText },
);

/** Byte sequences that are not valid UTF-8: a bad continuation, an encoded surrogate, overlong forms, 0xFF. */
const invalidUtf8 = fc.constantFrom([0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]);

const bytesFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  fc.tuple(textFrameText, invalidUtf8, fc.nat()).map(([frameText, bad, at]): FuzzFrame => {
    const good = Buffer.from(frameText);
    const position = good.length === 0 ? 0 : at % good.length;
    return { kind: 'bytes', bytes: Buffer.concat([good.subarray(0, position), Buffer.from(bad), good.subarray(position)]) };
  }),
  fc.uint8Array({ maxLength: 24 }).map((bytes): FuzzFrame => ({ kind: 'bytes', bytes })),
);

/** Text frames only: what a conforming WebSocket client library can send. */
export const textFuzzFrame: fc.Arbitrary<FuzzFrame> = textFrameText.map((frameText): FuzzFrame => ({ kind: 'text', text: frameText }));

/** Every kind of frame, text ones the most often. */
export const fuzzFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  { weight: 190, arbitrary: textFuzzFrame },
  { weight: 6, arbitrary: bytesFrame },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes): FuzzFrame => ({ kind: 'binary', bytes })) },
  { weight: 2, arbitrary: fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15).map((opcode): FuzzFrame => ({ kind: 'opcode', opcode })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }).map((extraBytes): FuzzFrame => ({ kind: 'oversized', extraBytes })) },
);

const openingAuth = fc
  .option(fc.constantFrom(...SHARED_GUEST_KEYS), { nil: undefined })
  .map((key) => text({ type: 'auth', requestId: 'open-auth', guest: key === undefined ? { name: 'fuzzer' } : { name: 'fuzzer', key } }));

/** The frames a fuzzed connection opens with: a guest sign-in most of the time, then maybe a join. */
export const openingFrames: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<string[]>([]) },
  { weight: 2, arbitrary: openingAuth.map((auth) => [auth]) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(openingAuth, fuzzRoom)
      .map(([auth, name]) => [auth, text({ type: 'join', requestId: 'open-join', room: name })]),
  },
);

/** Returns a short description of a frame for failure messages. */
export function describeFrame(frame: FuzzFrame): string {
  switch (frame.kind) {
    case 'text':
      return `text ${JSON.stringify(frame.text.length > 200 ? `${frame.text.slice(0, 200)}...` : frame.text)}`;
    case 'bytes':
      return `text bytes ${Buffer.from(frame.bytes.subarray(0, 100)).toString('hex')}${frame.bytes.length > 100 ? '...' : ''}`;
    case 'binary':
      return `binary ${Buffer.from(frame.bytes).toString('hex')}`;
    case 'opcode':
      return `reserved opcode 0x${frame.opcode.toString(16)}`;
    case 'oversized':
      return `text frame ${frame.extraBytes} bytes over the limit`;
  }
}
