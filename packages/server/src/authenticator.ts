import { createHash, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';

import {
  countCodePoints,
  hasControlCharacter,
  MAX_DISPLAY_NAME_CODE_POINTS,
  toWellFormedText,
  type AuthFrame,
} from '@confab/protocol';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

import { ConfabError } from './confab-error.js';
import { RoomAccess } from './room-access.js';

/** The identity of a session, taken only from a verified token or a guest sign-in. */
export interface AuthenticatedUser {
  id: string;
  name: string;
  guest: boolean;
  access: RoomAccess;
}

export interface AuthenticatorOptions {
  jwtSecret: string | undefined;
  /** PEM-encoded SPKI public key (RSA, EC or Ed25519). */
  jwtPublicKey: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  allowGuests: boolean;
}

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  ec: ['ES256', 'ES384', 'ES512'],
  ed25519: ['EdDSA'],
};

/** Verifies `auth` frames: JWTs with the configured key, or guest names when guests are allowed. */
export class Authenticator {
  private readonly key: Uint8Array | KeyObject | undefined;
  private readonly algorithms: string[];

  constructor(private readonly options: AuthenticatorOptions) {
    if (options.jwtSecret !== undefined) {
      this.key = new TextEncoder().encode(options.jwtSecret);
      this.algorithms = HMAC_ALGORITHMS;
    } else if (options.jwtPublicKey !== undefined) {
      const key = createPublicKey(options.jwtPublicKey);
      const algorithms = ALGORITHMS_BY_KEY_TYPE[key.asymmetricKeyType ?? ''];
      if (algorithms === undefined) {
        throw new Error(`unsupported JWT public key type ${key.asymmetricKeyType}; use an RSA, EC or Ed25519 key`);
      }
      this.key = key;
      this.algorithms = algorithms;
    } else {
      this.key = undefined;
      this.algorithms = [];
    }
  }

  /** Returns the session's user, or throws a ConfabError saying why the frame is not accepted. */
  async authenticate(frame: AuthFrame): Promise<AuthenticatedUser> {
    if (frame.token !== undefined && frame.guest !== undefined) {
      throw new ConfabError('invalid_field', 'auth: give either "token" or "guest", not both', { field: 'guest' });
    }
    if (frame.token !== undefined) {
      return this.verifyToken(frame.token);
    }
    if (frame.guest !== undefined) {
      return this.signInGuest(frame.guest.name, frame.guest.key);
    }
    throw new ConfabError('invalid_field', 'auth: field "token" or "guest" is required', { field: 'token' });
  }

  private async verifyToken(token: string): Promise<AuthenticatedUser> {
    if (this.key === undefined) {
      throw new ConfabError('unauthorized', 'this server accepts no tokens: it has no JWT key configured');
    }

    let payload: JWTPayload;
    try {
      const verifyOptions: Parameters<typeof jwtVerify>[2] = {
        algorithms: this.algorithms,
        requiredClaims: ['sub', 'exp'],
      };
      if (this.options.jwtIssuer !== undefined) {
        verifyOptions.issuer = this.options.jwtIssuer;
      }
      if (this.options.jwtAudience !== undefined) {
        verifyOptions.audience = this.options.jwtAudience;
      }
      ({ payload } = await jwtVerify(token, this.key, verifyOptions));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new ConfabError('token_expired', 'token has expired; request a new one');
      }
      const reason = error instanceof Error ? error.message : 'verification failed';
      throw new ConfabError('unauthorized', `token rejected: ${reason}`);
    }

    const subject = payload.sub;
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new ConfabError('unauthorized', 'token rejected: "sub" must be a string of 1 to 256 characters');
    }

    return {
      id: toWellFormedText(subject),
      name: readDisplayName(payload['name']) ?? truncateCodePoints(toWellFormedText(subject), MAX_DISPLAY_NAME_CODE_POINTS),
      guest: false,
      access: RoomAccess.fromClaim(readRoomsClaim(payload['rooms'])),
    };
  }

  private signInGuest(rawName: string, key: string | undefined): AuthenticatedUser {
    if (!this.options.allowGuests) {
      throw new ConfabError('guests_disabled', 'guest sign-in is disabled on this server; authenticate with a token');
    }

    const name = readDisplayName(rawName);
    if (name === undefined) {
      throw new ConfabError(
        'invalid_field',
        `auth: guest name must be 1 to ${MAX_DISPLAY_NAME_CODE_POINTS} characters with no control characters`,
        { field: 'guest.name' },
      );
    }
    // A guest with a key keeps one id across reconnects and restarts, so that its send retries
    // are deduplicated. The id is a hash of the key, and the key itself is never stored or sent.
    const id =
      key === undefined
        ? `guest-${randomUUID()}`
        : `guest-${createHash('sha256').update(`confab-guest:${key}`).digest('hex').slice(0, 32)}`;
    return { id, name, guest: true, access: RoomAccess.ALL };
  }
}

/** Returns the trimmed, well-formed display name, or undefined when it is not acceptable. */
function readDisplayName(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const name = toWellFormedText(value.trim());
  const length = countCodePoints(name);
  if (length === 0 || length > MAX_DISPLAY_NAME_CODE_POINTS || hasControlCharacter(name)) {
    return undefined;
  }
  return name;
}

function truncateCodePoints(text: string, maxCodePoints: number): string {
  return Array.from(text).slice(0, maxCodePoints).join('');
}

function readRoomsClaim(value: unknown): string[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw new ConfabError('unauthorized', 'token rejected: "rooms" must be an array of room names or patterns');
  }
  return value;
}
