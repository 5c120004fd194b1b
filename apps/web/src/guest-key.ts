import { GUEST_KEY_PATTERN } from '@confab/protocol';

const GUEST_KEY_STORAGE_KEY = 'confab.web.guest-key.v1';

/**
 * Returns this browser's guest key, creating and saving one on first use. The server derives the
 * guest's user id from it, so the id survives reloads: messages sent before a reload are still
 * recognized as the user's own, and a resend after a reload is deduplicated. Without storage
 * (private mode) the key lasts as long as the page.
 */
export function loadGuestKey(): string {
  const stored = readStoredKey();
  if (stored !== null && GUEST_KEY_PATTERN.test(stored)) {
    return stored;
  }

  const key = createGuestKey();
  try {
    window.localStorage.setItem(GUEST_KEY_STORAGE_KEY, key);
  } catch {
    // The key then lasts as long as this page.
  }
  return key;
}

/** Forgets the guest key, so the next guest sign-in in this browser is a new user. */
export function clearGuestKey(): void {
  try {
    window.localStorage.removeItem(GUEST_KEY_STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

function readStoredKey(): string | null {
  try {
    return window.localStorage.getItem(GUEST_KEY_STORAGE_KEY);
  } catch {
    return null;
  }
}

function createGuestKey(): string {
  const bytes = window.crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
