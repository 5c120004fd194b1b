import { createHmac } from 'node:crypto';

/** Lifetime of test tokens, in seconds. */
const TOKEN_LIFETIME_S = 3600;

/** Signs an HS256 JWT for a test user, the way an operator's identity service would. */
export function signToken(secret: string, claims: { sub: string; name: string; rooms?: string[] }): string {
  const nowS = Math.floor(Date.now() / 1000);
  const header = encode({ alg: 'HS256', typ: 'JWT' });
  const payload = encode({ ...claims, iat: nowS, exp: nowS + TOKEN_LIFETIME_S });
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
