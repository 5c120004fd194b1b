/**
 * Makes `crypto.randomUUID` available on pages served over plain HTTP from a host other than
 * localhost. Browsers define it only in secure contexts, but the client SDK calls it for every
 * message id, and self-hosted servers are often reached as http://host:8080.
 */
export function ensureRandomUuid(): void {
  if (typeof globalThis.crypto?.randomUUID === 'function') {
    return;
  }

  const randomUuid = (): `${string}-${string}-${string}-${string}-${string}` => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    // RFC 9562 version 4: four version bits, then the two variant bits 10.
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  Object.defineProperty(crypto, 'randomUUID', { value: randomUuid, configurable: true, writable: true });
}
