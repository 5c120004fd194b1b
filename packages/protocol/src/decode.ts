import { CLIENT_FRAME_SCHEMAS, type ClientFrame } from './client-frames.js';
import type { ErrorCode } from './error-codes.js';
import { MAX_REQUEST_ID_LENGTH } from './limits.js';

/**
 * Maximum nesting of objects and arrays accepted in a frame. Client frames of v1 nest three levels
 * at most. The cap keeps JSON.parse from spending hundreds of milliseconds on a megabyte of
 * brackets, as it does at 500,000 levels (measured on Node 20).
 */
export const MAX_FRAME_NESTING_DEPTH = 16;

/** The reason a frame could not be decoded, ready to be sent back as an `error` frame. */
export interface DecodeError {
  code: ErrorCode;
  message: string;
  requestId?: string;
  field?: string;
}

export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; error: DecodeError };

// Frame types and field names quoted back in an error are cut to this many characters, so that a
// hostile frame cannot make its error reply as large as itself.
const MAX_ECHOED_NAME_LENGTH = 64;

/**
 * Decode one text frame from a client. Returns the typed frame, or a coded error for any input at
 * all, and never throws. The property tests in packages/protocol/test/decode.test.ts check this on
arbitrary strings and JSON values.
 */
export function decodeClientFrame(text: string): DecodeResult {
  if (exceedsNestingDepth(text, MAX_FRAME_NESTING_DEPTH)) {
    return failure('invalid_frame', `frame nests deeper than ${MAX_FRAME_NESTING_DEPTH} levels`);
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse throws SyntaxError on bad JSON and RangeError on nesting deep enough to
    // exhaust the stack; both mean the same to the client.
    return failure('invalid_frame', 'frame is not valid JSON');
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return failure('invalid_frame', 'frame must be a JSON object');
  }

  const record = value as Record<string, unknown>;
  const requestId = readRequestId(record);
  const type = Object.hasOwn(record, 'type') ? record['type'] : undefined;
  if (typeof type !== 'string') {
    return failure('invalid_frame', 'frame must have a string "type"', requestId);
  }

  const schema = CLIENT_FRAME_SCHEMAS.get(type);
  if (schema === undefined) {
    return failure('unknown_type', `unknown frame type ${JSON.stringify(type.slice(0, MAX_ECHOED_NAME_LENGTH))}`, requestId);
  }

  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined ? [] : issue.path.map(String);
    const unknownKeys = issue !== undefined && issue.code === 'unrecognized_keys' ? issue.keys : [];
    const keys = unknownKeys.slice(0, 1).map((key) => key.slice(0, MAX_ECHOED_NAME_LENGTH));
    const field = [...path, ...keys.slice(0, 1)].join('.');
    const detail = issue === undefined ? 'is invalid' : describeIssue(issue.code, issue.message, keys);
    const error: DecodeError = {
      code: 'invalid_field',
      message: `${type}: ${field === '' ? 'frame' : `field "${field}"`} ${detail}`,
      field,
    };
    if (requestId !== undefined) {
      error.requestId = requestId;
    }
    return { ok: false, error };
  }

  return { ok: true, frame: parsed.data };
}

function describeIssue(code: string, message: string, keys: readonly string[]): string {
  if (code === 'unrecognized_keys') {
    return 'is not part of this frame';
  }
  if (keys.length > 0) {
    return message;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function readRequestId(record: Record<string, unknown>): string | undefined {
  const candidate = Object.hasOwn(record, 'requestId') ? record['requestId'] : undefined;
  if (typeof candidate === 'string' && candidate.length > 0 && candidate.length <= MAX_REQUEST_ID_LENGTH) {
    return candidate;
  }
  return undefined;
}

function failure(code: ErrorCode, message: string, requestId?: string): DecodeResult {
  const error: DecodeError = { code, message };
  if (requestId !== undefined) {
    error.requestId = requestId;
  }
  return { ok: false, error };
}

/** Returns whether the JSON text opens more than `maxDepth` objects or arrays inside each other. */
function exceedsNestingDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) {
        index++;
      } else if (code === QUOTE) {
        inString = false;
      }
      continue;
    }

    if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > maxDepth) {
        return true;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
