import type { KeyObject } from 'node:crypto';

import { SignJWT } from 'jose';

/** HMAC secret for servers started with `jwtSecret`; the server requires at least 32 bytes. */
export const TEST_JWT_SECRET = 'confab-test-secret-0123456789abcdef';

/** Lifetime of a test token when the caller gives no `exp`, in seconds. */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

export interface SignTestTokenOptions {
  /** `exp` claim in seconds since the Unix epoch; null leaves the claim out. Default: one hour ahead. */
  exp?: number | null;
  /** HMAC secret as text, or a private key. Default: TEST_JWT_SECRET. */
  key?: string | KeyObject;
  /** Signing algorithm. Default: HS256. */
  alg?: string;
}

/** Returns the current time in whole seconds, the unit of JWT time claims. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Signs a token as an application backend would issue it. The claims are written as given, so a
 * test can leave out `sub` or give `rooms` the wrong type.
 */
export function signTestToken(claims: Record<string, unknown>, options: SignTestTokenOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = { ...claims };
  const exp = options.exp === undefined ? nowSeconds() + DEFAULT_TOKEN_LIFETIME_SECONDS : options.exp;
  if (exp !== null) {
    payload['exp'] = exp;
  }

  const key = options.key ?? TEST_JWT_SECRET;
  const signingKey = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .sign(signingKey);
}
