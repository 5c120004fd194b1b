import { useEffect, useRef, useState, type ReactNode } from 'react';

import { ConnectionBanner } from './connection-banner';
import { RoomList } from './room-list';

interface ChatScreenProps {
  userName: string;
  connectionState: string;
  rooms: readonly string[];
  /** Unread messages of each room that is not open. */
  unreadByRoom: ReadonlyMap<string, number>;
  activeRoom: string | null;
  onJoin: (room: string) => void;
  onSelect: (room: string) => void;
  onLeave: (room: string) => void;
  onSignOut: () => void;
  onReconnect: () => void;
  hasOpenRoom: boolean;
  /** The joined rooms. Only the open one renders anything. */
  children: ReactNode;
}

/** Renders the signed-in layout: header, room list and the open room. */
export function ChatScreen(props: ChatScreenProps) {
  const { userName, connectionState, rooms, activeRoom, children } = props;
  // On a phone the room list starts open when no room is, since joining one is all there is to do.
  const [roomsOpen, setRoomsOpen] = useState(activeRoom === null);
  const toggleRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (activeRoom === null) {
      setRoomsOpen(true);
    }
  }, [activeRoom]);

  useEffect(() => {
    if (!roomsOpen) {
      return;
    }
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setRoomsOpen(false);
        toggleRef.current?.focus();
      }
    };
    window.addEventListener('keydown', closeOnEscape);
    return () => window.removeEventListener('keydown', closeOnEscape);
  }, [roomsOpen]);

  let totalUnread = 0;
  for (const room of rooms) {
    totalUnread += room === activeRoom ? 0 : (props.unreadByRoom.get(room) ?? 0);
  }

  // On a phone the room list is a panel over the conversation, so choosing a room closes it.
  const select = (room: string) => {
    setRoomsOpen(false);
    props.onSelect(room);
  };
  const join = (room: string) => {
    setRoomsOpen(false);
    props.onJoin(room);
  };

  return (
    <div className="chat">
      <header className="chat__header">
        <button
          ref={toggleRef}
          type="button"
          className="button button--ghost chat__rooms-toggle"
          aria-expanded={roomsOpen}
          aria-controls="chat-rooms"
          onClick={() => setRoomsOpen((open) => !open)}
        >
          Rooms
          {totalUnread > 0 ? <span className="unread-badge">{totalUnread}</span> : null}
          <span aria-hidden="true">▾</span>
        </button>
        <h1 className="chat__brand">Confab</h1>
        <span className="chat__user" data-testid="signed-in-user">
          <span className="chat__user-label">Signed in as </span>
          <strong>{userName}</strong>
        </span>
        <button type="button" className="button button--ghost" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <div id="chat-rooms" className={roomsOpen ? 'chat__sidebar chat__sidebar--open' : 'chat__sidebar'}>
        <RoomList
          rooms={rooms}
          unreadByRoom={props.unreadByRoom}
          activeRoom={activeRoom}
          onJoin={join}
          onSelect={select}
          onLeave={props.onLeave}
        />
      </div>
      <main className="chat__main">
        <ConnectionBanner state={connectionState} onReconnect={props.onReconnect} />
        {children}
        {props.hasOpenRoom ? null : (
          <div className="chat__empty">
            <h2>No room open</h2>
            <p>Join a room by name to start chatting, for example “lobby”.</p>
          </div>
        )}
      </main>
    </div>
  );
}
