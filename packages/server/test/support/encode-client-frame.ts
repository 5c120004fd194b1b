import { randomBytes } from 'node:crypto';

/** WebSocket opcodes from RFC 6455, section 5.2. */
export const OPCODES = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export interface ClientFrameOptions {
  opcode: number;
  /** Payload bytes that follow the header; a string is encoded as UTF-8. */
  payload?: Buffer | string;
  /** FIN bit: false for every fragment of a message but the last. */
  fin?: boolean;
  /**
   * Payload length written in the header. Defaults to the payload's length; set it larger to send
   * a header that declares more bytes than follow it.
   */
  declaredLength?: number;
  /** Clients must mask their frames (RFC 6455, section 5.3); false builds an invalid frame. */
  masked?: boolean;
}

/**
 * Encodes one client-to-server WebSocket frame by hand, so that tests can send what the `ws`
 * library refuses to build: reserved opcodes, invalid UTF-8 in a text frame, or a header whose
 * declared length exceeds the bytes that follow.
 */
export function encodeClientFrame(options: ClientFrameOptions): Buffer {
  const payload = typeof options.payload === 'string' ? Buffer.from(options.payload, 'utf8') : (options.payload ?? Buffer.alloc(0));
  const declaredLength = options.declaredLength ?? payload.length;
  const masked = options.masked ?? true;
  const fin = options.fin ?? true;

  let header: Buffer;
  if (declaredLength < 126) {
    header = Buffer.alloc(2);
    header[1] = declaredLength;
  } else if (declaredLength <= 0xffff) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(declaredLength, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(declaredLength), 2);
  }
  header[0] = (fin ? 0x80 : 0) | (options.opcode & 0x0f);
  if (!masked) {
    return Buffer.concat([header, payload]);
  }

  header[1] = (header[1] ?? 0) | 0x80;
  const mask = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) {
    body[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  }
  return Buffer.concat([header, mask, body]);
}
