import { CLOSE_CODES, ERROR_CODES, MAX_REQUEST_ID_LENGTH } from '@confab/protocol';

import { FuzzConnection, type ServerOutcome } from './fuzz-connection.js';
import { describeFrame, expectedOutcome, SENTINEL_PREFIX, type FuzzFrame } from './fuzz-frames.js';

/** How long the server has to reply to one frame, in milliseconds. Generous, for a loaded machine. */
const REPLY_TIMEOUT_MS = 10_000;

/**
 * Close codes that may follow the error reply to an earlier frame: too many invalid frames, a
 * rejected sign-in, too many connections, or the auth deadline.
 */
const FOLLOW_UP_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_CODES.policyViolation,
  CLOSE_CODES.authFailed,
  CLOSE_CODES.tooManyConnections,
  CLOSE_CODES.authTimeout,
]);

/** Counts of what the fuzzer sent and saw, for coverage checks and diagnostics. */
export class FuzzStats {
  frames = 0;
  connections = 0;
  readonly replies = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly closes = new Map<string, number>();
  /** Server text frames that were not UTF-8 JSON objects with a string type. */
  readonly malformedServerFrames: string[] = [];

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  summary(): string {
    const show = (map: Map<string, number>) => JSON.stringify(Object.fromEntries([...map].sort()));
    return `${this.frames} frames on ${this.connections} connections; replies ${show(this.replies)}; errors ${show(this.errors)}; closes ${show(this.closes)}`;
  }
}

/** A violation of the protocol's promise for one frame. */
export class FuzzViolation extends Error {
  override readonly name = 'FuzzViolation';
}

export interface FuzzTarget {
  port: number;
  epoch: string;
  maxFrameBytes: number;
  stats: FuzzStats;
}

/**
 * Sends `frames` one at a time, each after the outcome of the one before, and checks each outcome.
 * An outcome is a reply (an error with a catalog code other than `internal`, or the request's
 * reply with its request id) or the documented close. A valid typing frame may get no reply, so a ping
 * follows it to mark where its outcome ends. A closed connection is replaced by a new one that
 * starts with `opening` again.
 */
export async function runLockStep(target: FuzzTarget, opening: string[], frames: FuzzFrame[]): Promise<void> {
  let connection = await openSession(target, opening);
  let lastReplyWasError = false;
  try {
    for (const frame of frames) {
      if (connection.isClosed) {
        collect(target, connection);
        connection.destroy();
        connection = await openSession(target, opening);
        lastReplyWasError = false;
      }

      const sent = frame.kind === 'text' ? { ...frame, text: connection.prepare(frame.text) } : frame;
      const expected = expectedOutcome(sent, target.maxFrameBytes);
      connection.send(sent);
      target.stats.frames++;
      const what = describeFrame(sent);

      if (expected.kind === 'close') {
        const outcome = await nextOutcome(connection, what);
        const allowed = outcome.kind === 'closed' && (outcome.code === expected.code || (lastReplyWasError && FOLLOW_UP_CLOSE_CODES.has(outcome.code ?? -1)));
        if (!allowed) {
          throw new FuzzViolation(`${what}: expected close ${expected.code}, got ${describeOutcome(outcome)}`);
        }
        target.stats.count(target.stats.closes, String(outcome.code));
        continue;
      }

      const sentinel = `${SENTINEL_PREFIX}${target.stats.frames}`;
      if (expected.maybeSilent) {
        connection.sendText(JSON.stringify({ type: 'ping', requestId: sentinel }));
      }
      let outcome = await nextOutcome(connection, what);
      if (outcome.kind === 'closed') {
        checkFollowUpClose(outcome, lastReplyWasError, what, target);
        continue;
      }
      if (expected.maybeSilent && outcome.frame['requestId'] !== sentinel) {
        checkReply(outcome.frame, expected.text, what, target);
        if (outcome.frame['type'] !== 'error') {
          throw new FuzzViolation(`${what}: a typing frame got ${JSON.stringify(outcome.frame)}, but the only reply it may get is an error`);
        }
        outcome = await nextOutcome(connection, `the ping after ${what}`);
        if (outcome.kind === 'closed') {
          throw new FuzzViolation(`${what}: the connection closed (${describeOutcome(outcome)}) after the typing frame's error`);
        }
      }
      if (expected.maybeSilent) {
        if (outcome.frame['requestId'] !== sentinel) {
          throw new FuzzViolation(`the ping after ${what} got ${JSON.stringify(outcome.frame)} instead of its own reply`);
        }
        lastReplyWasError = false;
        continue;
      }
      checkReply(outcome.frame, expected.text, what, target);
      lastReplyWasError = outcome.frame['type'] === 'error';
    }
  } finally {
    collect(target, connection);
    connection.destroy();
  }
}

/**
 * Sends `frames` (text only) back to back, then a ping, and checks the replies as a whole: every
 * reply well-formed and coded, no more replies than frames, one reply per frame that must have
 * one, or else a documented close.
 */
export async function runBurst(target: FuzzTarget, opening: string[], frames: FuzzFrame[]): Promise<void> {
  const connection = await openSession(target, opening);
  try {
    let mustReply = 0;
    const sentTexts: string[] = [];
    for (const frame of frames) {
      if (frame.kind !== 'text') {
        throw new Error(`runBurst sends text frames only, got ${frame.kind}`);
      }
      const text = connection.prepare(frame.text);
      const expected = expectedOutcome({ kind: 'text', text }, target.maxFrameBytes);
      if (expected.kind === 'reply' && !expected.maybeSilent) {
        mustReply++;
      }
      sentTexts.push(text);
      connection.sendText(text);
      target.stats.frames++;
    }
    const sentinel = `${SENTINEL_PREFIX}burst-${target.stats.frames}`;
    connection.sendText(JSON.stringify({ type: 'ping', requestId: sentinel }));
    const what = `a burst of ${frames.length} frames (${sentTexts.slice(0, 5).map((text) => JSON.stringify(text.slice(0, 80))).join(', ')}...)`;

    let replies = 0;
    let sawSentinel = false;
    for (;;) {
      const outcome = await nextOutcome(connection, what);
      if (outcome.kind === 'closed') {
        if (!FOLLOW_UP_CLOSE_CODES.has(outcome.code ?? -1)) {
          throw new FuzzViolation(`${what}: closed with ${describeOutcome(outcome)}, which no text frame may cause`);
        }
        target.stats.count(target.stats.closes, String(outcome.code));
        break;
      }
      if (outcome.frame['requestId'] === sentinel) {
        sawSentinel = true;
      } else {
        replies++;
        checkReply(outcome.frame, undefined, what, target);
      }
      if (replies > frames.length) {
        throw new FuzzViolation(`${what}: ${replies} replies to ${frames.length} frames`);
      }
      if (sawSentinel && replies >= mustReply) {
        break;
      }
    }
  } finally {
    collect(target, connection);
    connection.destroy();
  }
}

async function openSession(target: FuzzTarget, opening: string[]): Promise<FuzzConnection> {
  const connection = await FuzzConnection.open(target.port, target.epoch, target.maxFrameBytes);
  target.stats.connections++;
  for (const text of opening) {
    connection.sendText(text);
    const outcome = await nextOutcome(connection, `opening frame ${text}`);
    if (outcome.kind !== 'reply' || outcome.frame['type'] === 'error') {
      throw new FuzzViolation(`opening frame ${text} failed: ${describeOutcome(outcome)}`);
    }
  }
  return connection;
}

async function nextOutcome(connection: FuzzConnection, what: string): Promise<ServerOutcome> {
  try {
    return await connection.next(REPLY_TIMEOUT_MS);
  } catch (error) {
    throw new FuzzViolation(`${what}: ${(error as Error).message}`);
  }
}

function checkFollowUpClose(outcome: Extract<ServerOutcome, { kind: 'closed' }>, lastReplyWasError: boolean, what: string, target: FuzzTarget): void {
  if (!lastReplyWasError || !FOLLOW_UP_CLOSE_CODES.has(outcome.code ?? -1)) {
    throw new FuzzViolation(`${what}: the connection ${describeOutcome(outcome)} instead of a reply`);
  }
  target.stats.count(target.stats.closes, String(outcome.code));
}

/** Checks one reply: a known type, a catalog error code other than internal, the right request id. */
function checkReply(frame: Record<string, unknown>, sentText: string | undefined, what: string, target: FuzzTarget): void {
  const type = frame['type'] as string;
  target.stats.count(target.stats.replies, type);
  if (type === 'error') {
    const code = frame['code'];
    if (typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code)) {
      throw new FuzzViolation(`${what}: error code ${JSON.stringify(code)} is not in the catalog`);
    }
    if (code === 'internal') {
      throw new FuzzViolation(`${what}: internal error ${JSON.stringify(frame['message'])}; a handler threw`);
    }
    if (typeof frame['message'] !== 'string' || frame['message'] === '') {
      throw new FuzzViolation(`${what}: error ${code} has no message`);
    }
    target.stats.count(target.stats.errors, code);
  }

  if (sentText === undefined) {
    return;
  }
  const requestId = readRequestId(sentText);
  const echoed = frame['requestId'];
  const matches = echoed === requestId || (requestId !== undefined && echoed === requestId.toWellFormed());
  if (echoed !== undefined && !matches) {
    throw new FuzzViolation(`${what}: reply carries request id ${JSON.stringify(echoed)}, not the frame's ${JSON.stringify(requestId)}`);
  }
  if (type !== 'error' && echoed === undefined) {
    throw new FuzzViolation(`${what}: ${type} reply carries no request id`);
  }
}

/** Returns the request id a server can read from a frame's text, as the protocol defines it. */
function readRequestId(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, 'requestId')) {
    return undefined;
  }
  const candidate = (value as { requestId: unknown }).requestId;
  return typeof candidate === 'string' && candidate.length > 0 && candidate.length <= MAX_REQUEST_ID_LENGTH ? candidate : undefined;
}

function collect(target: FuzzTarget, connection: FuzzConnection): void {
  target.stats.malformedServerFrames.push(...connection.malformedServerFrames.splice(0));
}

function describeOutcome(outcome: ServerOutcome): string {
  if (outcome.kind === 'reply') {
    return `reply ${JSON.stringify(outcome.frame).slice(0, 300)}`;
  }
  return outcome.code === undefined ? 'ended without a close frame' : `closed with ${outcome.code}`;
}
