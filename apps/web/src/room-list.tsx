import { ROOM_NAME_PATTERN } from '@confab/protocol';
import { useRef, useState, type FormEvent } from 'react';

interface RoomListProps {
  rooms: readonly string[];
  /** Unread messages of each room that is not open. */
  unreadByRoom: ReadonlyMap<string, number>;
  activeRoom: string | null;
  onJoin: (room: string) => void;
  onSelect: (room: string) => void;
  onLeave: (room: string) => void;
}

/** Lists the joined rooms, each with a leave button, and a form to join another room by name. */
export function RoomList({ rooms, unreadByRoom, activeRoom, onJoin, onSelect, onLeave }: RoomListProps) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  const leave = (room: string) => {
    onLeave(room);
    // The leave button goes away with its room, so focus moves to where typing continues: the
    // open room's composer, or the join form when no room is left.
    requestAnimationFrame(() => {
      const composer = document.querySelector<HTMLTextAreaElement>('.composer__input');
      (composer ?? inputRef.current)?.focus();
    });
  };

  const handleSubmit = (event: FormEvent) => {
    event.preventDefault();
    const room = name.trim().replace(/^#/, '');
    if (!ROOM_NAME_PATTERN.test(room)) {
      setError(`"${room}" is not a valid room name: use 1 to 64 letters, digits and . _ : - starting with a letter or digit.`);
      return;
    }
    setError(null);
    setName('');
    onJoin(room);
  };

  return (
    <nav className="room-list" aria-labelledby="rooms-heading">
      <h2 id="rooms-heading" className="panel-heading">
        Rooms
      </h2>
      {rooms.length === 0 ? null : (
        <ul className="room-list__items">
          {rooms.map((room) => (
            <RoomListItem
              key={room}
              room={room}
              active={room === activeRoom}
              unread={room === activeRoom ? 0 : (unreadByRoom.get(room) ?? 0)}
              onSelect={onSelect}
              onLeave={leave}
            />
          ))}
        </ul>
      )}
      <form className="room-list__join" onSubmit={handleSubmit} noValidate>
        <label htmlFor="join-room" className="visually-hidden">
          Room name
        </label>
        <input
          ref={inputRef}
          id="join-room"
          className="input"
          value={name}
          placeholder="Join a room"
          autoComplete="off"
          spellCheck={false}
          // Right after sign-in with no room joined, joining one is the next step.
          autoFocus={rooms.length === 0}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? 'join-room-error' : undefined}
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit" className="button button--secondary">
          Join
        </button>
        {error !== null ? (
          <p id="join-room-error" className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </nav>
  );
}

interface RoomListItemProps {
  room: string;
  active: boolean;
  unread: number;
  onSelect: (room: string) => void;
  onLeave: (room: string) => void;
}

function RoomListItem({ room, active, unread, onSelect, onLeave }: RoomListItemProps) {
  const classes = ['room-list__item'];
  if (active) {
    classes.push('room-list__item--active');
  }
  if (unread > 0) {
    classes.push('room-list__item--unread');
  }

  return (
    <li className={classes.join(' ')}>
      <button
        type="button"
        className="room-list__select"
        aria-current={active ? 'page' : undefined}
        onClick={() => onSelect(room)}
      >
        <span className="room-list__name">#{room}</span>
        {unread > 0 ? (
          <span className="unread-badge" data-testid="unread-count">
            {unread}
            <span className="visually-hidden"> unread</span>
          </span>
        ) : null}
      </button>
      <button
        type="button"
        className="room-list__leave"
        aria-label={`Leave #${room}`}
        title={`Leave #${room}`}
        onClick={() => onLeave(room)}
      >
        ×
      </button>
    </li>
  );
}
