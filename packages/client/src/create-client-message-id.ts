/**
 * Creates a random version 4 UUID for a message's clientMessageId. Browsers define
 * `crypto.randomUUID` only in secure contexts (HTTPS or localhost), while a self-hosted server
 * is often reached as http://host:8080, so the UUID is built from `crypto.getRandomValues`,
 * which every context has, when `randomUUID` is missing.
 */
export function createClientMessageId(): string {
  if (typeof globalThis.crypto.randomUUID === 'function') {
    return globalThis.crypto.randomUUID();
  }

  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  // RFC 9562, version 4: the version nibble is 4 and the variant bits are 10.
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
