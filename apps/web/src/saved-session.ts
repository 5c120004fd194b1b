import { ROOM_NAME_PATTERN } from '@confab/protocol';

/** Credentials the user signs in with: a guest display name, or a JWT issued by their operator. */
export type Credentials = { kind: 'guest'; name: string } | { kind: 'token'; token: string };

/** Session state that the browser keeps between page loads. */
export interface SavedSession {
  /** Null when the user is signed out. */
  credentials: Credentials | null;
  /** Last guest name used, kept after sign-out to prefill the form. */
  lastGuestName: string;
  /** Rooms the user has joined, in the order they were joined. */
  rooms: string[];
  activeRoom: string | null;
}

const LOCAL_STORAGE_KEY = 'confab.web.session.v1';
// NOTE: a pasted token is kept in sessionStorage, so it survives a reload but not the end of the
// browser session. A guest name is not a secret and stays in localStorage.
const TOKEN_SESSION_STORAGE_KEY = 'confab.web.token.v1';

const EMPTY_SESSION: SavedSession = { credentials: null, lastGuestName: '', rooms: [], activeRoom: null };

interface StoredFields {
  guestName?: unknown;
  signedInAs?: unknown;
  rooms?: unknown;
  activeRoom?: unknown;
}

/** Reads the saved session. Any missing or unreadable part falls back to its signed-out value. */
export function loadSavedSession(): SavedSession {
  const stored = readJson(() => window.localStorage.getItem(LOCAL_STORAGE_KEY));
  if (stored === null) {
    return { ...EMPTY_SESSION };
  }

  const lastGuestName = typeof stored.guestName === 'string' ? stored.guestName : '';
  // A name that is not a valid room name would make the client throw on join, so it is dropped.
  const rooms = Array.isArray(stored.rooms)
    ? stored.rooms.filter((room): room is string => typeof room === 'string' && ROOM_NAME_PATTERN.test(room))
    : [];
  const activeRoom =
    typeof stored.activeRoom === 'string' && rooms.includes(stored.activeRoom) ? stored.activeRoom : null;

  let credentials: Credentials | null = null;
  if (stored.signedInAs === 'guest' && lastGuestName !== '') {
    credentials = { kind: 'guest', name: lastGuestName };
  } else if (stored.signedInAs === 'token') {
    const token = readString(() => window.sessionStorage.getItem(TOKEN_SESSION_STORAGE_KEY));
    credentials = token === null || token === '' ? null : { kind: 'token', token };
  }

  return { credentials, lastGuestName, rooms, activeRoom };
}

/** Writes the session. Storage failures (private mode, full quota) are ignored, so the app keeps working without them. */
export function saveSession(session: SavedSession): void {
  const stored: StoredFields = {
    guestName: session.credentials?.kind === 'guest' ? session.credentials.name : session.lastGuestName,
    signedInAs: session.credentials?.kind ?? null,
    rooms: session.rooms,
    activeRoom: session.activeRoom,
  };

  try {
    window.localStorage.setItem(LOCAL_STORAGE_KEY, JSON.stringify(stored));
    if (session.credentials?.kind === 'token') {
      window.sessionStorage.setItem(TOKEN_SESSION_STORAGE_KEY, session.credentials.token);
    } else {
      window.sessionStorage.removeItem(TOKEN_SESSION_STORAGE_KEY);
    }
  } catch {
    // Nothing to recover: the session only lasts until the page is closed.
  }
}

function readString(read: () => string | null): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function readJson(read: () => string | null): StoredFields | null {
  const text = readString(read);
  if (text === null) {
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as StoredFields) : null;
  } catch {
    return null;
  }
}
