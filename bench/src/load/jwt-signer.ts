import { createHmac } from 'node:crypto';

/** Secret shared by the load generator and the Confab targets; only ever used on loopback. */
export const BENCH_JWT_SECRET = 'confab-bench-secret-used-only-on-loopback';

/** How long a benchmark token stays valid, in seconds; longer than any run. */
const TOKEN_LIFETIME_S = 6 * 60 * 60;

function base64Url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Signs an HS256 JWT for a benchmark user, in the form Confab's `auth` frame takes. */
export function signBenchToken(userId: string, secret = BENCH_JWT_SECRET): string {
  const header = base64Url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const nowS = Math.floor(Date.now() / 1000);
  const claims = base64Url(JSON.stringify({ sub: userId, name: userId, iat: nowS, exp: nowS + TOKEN_LIFETIME_S }));
  const signature = createHmac('sha256', secret).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}
