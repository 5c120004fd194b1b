import { useCallback, useEffect, useState } from 'react';

import { describeError } from './describe-error';
import { clearGuestKey } from './guest-key';
import { ownMessageIds } from './own-message-ids';
import { loadSavedSession, saveSession, type Credentials, type SavedSession } from './saved-session';
import { SignInScreen } from './sign-in-screen';
import { SignedInApp } from './signed-in-app';


/** Renders the whole UI: the sign-in screen until credentials are known, then the chat. */
export function App() {
  const [session, setSession] = useState<SavedSession>(loadSavedSession);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [signInMode, setSignInMode] = useState<Credentials['kind']>('guest');

  useEffect(() => {
    saveSession(session);
  }, [session]);

  const signIn = useCallback((credentials: Credentials) => {
    setSignInError(null);
    setSession((current) => ({
      ...current,
      credentials,
      lastGuestName: credentials.kind === 'guest' ? credentials.name : current.lastGuestName,
    }));
  }, []);

  const signOut = useCallback(() => {
    clearGuestKey();
    ownMessageIds.clear();
    setSession((current) => ({ ...current, credentials: null, rooms: [], activeRoom: null }));
  }, []);

  const rejectCredentials = useCallback((kind: Credentials['kind'], reason: string) => {
    setSignInError(`Sign-in failed: ${reason}.`);
    // Reopen the form on the kind of sign-in that failed, so a bad token can be replaced.
    setSignInMode(kind);
    setSession((current) => ({ ...current, credentials: null }));
  }, []);

  const joinRoom = useCallback((room: string) => {
    setSession((current) => ({
      ...current,
      rooms: current.rooms.includes(room) ? current.rooms : [...current.rooms, room],
      activeRoom: room,
    }));
  }, []);

  const selectRoom = useCallback((room: string) => {
    setSession((current) => ({ ...current, activeRoom: room }));
  }, []);

  const leaveRoom = useCallback((room: string) => {
    setSession((current) => {
      const index = current.rooms.indexOf(room);
      const rooms = current.rooms.filter((name) => name !== room);
      // Leaving the open room opens its neighbour in the list, the one below it when there is one.
      const activeRoom =
        current.activeRoom === room ? (rooms[Math.min(index, rooms.length - 1)] ?? null) : current.activeRoom;
      return { ...current, rooms, activeRoom };
    });
  }, []);

  if (session.credentials === null) {
    return (
      <SignInScreen
        initialMode={signInMode}
        initialGuestName={session.lastGuestName}
        error={signInError}
        onSignIn={signIn}
      />
    );
  }

  const credentials = session.credentials;
  return (
    <SignedInApp
      credentials={credentials}
      rooms={session.rooms}
      activeRoom={session.activeRoom}
      onJoin={joinRoom}
      onSelect={selectRoom}
      onLeave={leaveRoom}
      onSignOut={signOut}
      onCredentialsRejected={(error) => rejectCredentials(credentials.kind, describeError(error))}
    />
  );
}
