/**
 * Server-to-client WebSocket frames, built by hand (RFC 6455, section 5.2). An event is framed once,
 * and the same bytes are written to every member. The frames queued for one socket in a loop turn
 * are joined into one write.
 */

const FIN_TEXT = 0x81;
const LENGTH_16_BITS = 126;
const LENGTH_64_BITS = 127;

/** Encodes `text` as UTF-8 in an unmasked, final text frame, header included. */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  let headerLength = 10;
  if (length < LENGTH_16_BITS) {
    headerLength = 2;
  } else if (length <= 0xffff) {
    headerLength = 4;
  }
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = LENGTH_16_BITS;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = LENGTH_64_BITS;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, headerLength, 'utf8');
  return frame;
}
