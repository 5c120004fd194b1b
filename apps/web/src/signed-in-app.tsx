import type { ConfabError } from '@confab/client';
import { ConfabProvider } from '@confab/react';
import { useCallback, useState } from 'react';

import { ChatScreen } from './chat-screen';
import { RoomSlot } from './room-slot';
import type { Credentials } from './saved-session';
import { useConfabSession } from './use-confab-session';

interface SignedInAppProps {
  credentials: Credentials;
  rooms: readonly string[];
  activeRoom: string | null;
  onJoin: (room: string) => void;
  onSelect: (room: string) => void;
  onLeave: (room: string) => void;
  onSignOut: () => void;
  onCredentialsRejected: (error: ConfabError) => void;
}

/** Renders the chat for one set of credentials: one client, every joined room kept joined, the open one shown. */
export function SignedInApp(props: SignedInAppProps) {
  const { credentials, rooms, activeRoom } = props;
  const { client, state, user } = useConfabSession(credentials, props.onCredentialsRejected);
  const fallbackName = credentials.kind === 'guest' ? credentials.name : '…';
  const [unreadByRoom, setUnreadByRoom] = useState<ReadonlyMap<string, number>>(new Map());

  const updateUnread = useCallback((room: string, unread: number) => {
    setUnreadByRoom((current) => {
      if ((current.get(room) ?? 0) === unread) {
        return current;
      }
      const next = new Map(current);
      next.set(room, unread);
      return next;
    });
  }, []);

  if (client === null) {
    return null;
  }

  return (
    <ConfabProvider client={client}>
      <ChatScreen
        userName={user?.name ?? fallbackName}
        connectionState={state}
        rooms={rooms}
        unreadByRoom={unreadByRoom}
        activeRoom={activeRoom}
        hasOpenRoom={activeRoom !== null}
        onJoin={props.onJoin}
        onSelect={props.onSelect}
        onLeave={props.onLeave}
        onSignOut={props.onSignOut}
        onReconnect={() => client.connect()}
      >
        {/* Every joined room stays joined, so its members and history stay current; only the open one renders. */}
        {rooms.map((room) => (
          <RoomSlot
            key={room}
            room={room}
            active={room === activeRoom}
            ownUserId={user?.id ?? null}
            ownUserName={user?.name ?? fallbackName}
            maxContentCodePoints={client.limits.maxContentCodePoints}
            onUnreadChange={updateUnread}
          />
        ))}
      </ChatScreen>
    </ConfabProvider>
  );
}
