import { nowMicros } from '../monotonic-clock.js';

/**
 * Marker that precedes the send time in every benchmark payload. `#` and `t` need no escaping in
 * JSON, so the marker reads the same inside a Confab event frame, a Socket.IO packet and a raw
 * relay, and the receiver finds it without parsing the frame.
 */
const TIME_MARKER = Buffer.from('#t');
const HASH = 0x23;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;

/** Builds a payload of `bytes` ASCII characters that starts with the current monotonic time. */
export function makePayload(bytes: number): string {
  const head = `#t${Math.round(nowMicros())}#`;
  return bytes > head.length ? head + 'x'.repeat(bytes - head.length) : head;
}

/** Reads the send time from a frame that carries a payload; -1 when the frame carries none. */
export function readPayloadTime(frame: Buffer): number {
  const at = frame.indexOf(TIME_MARKER);
  if (at < 0) {
    return -1;
  }
  let value = 0;
  for (let index = at + TIME_MARKER.length; index < frame.length; index++) {
    const byte = frame[index] ?? HASH;
    if (byte === HASH) {
      return value;
    }
    if (byte < DIGIT_ZERO || byte > DIGIT_NINE) {
      return -1;
    }
    value = value * 10 + (byte - DIGIT_ZERO);
  }
  return -1;
}
