import type { Member } from '@confab/protocol';
import { useEffect, useRef, useState } from 'react';

import type { MessageRow } from './message-row';
import { Composer } from './composer';
import { MessageList } from './message-list';
import { PresencePanel } from './presence-panel';
import { TypingLine } from './typing-line';

/** Props of the room view, gathered from the room hook by `RoomSlot`. */
export interface RoomViewProps {
  room: string;
  ownUserId: string | null;
  /** Whether the join is still in flight, for the room header. */
  joining: boolean;
  /** Reason the server rejected the join, shown in place of the conversation. */
  joinError: string | null;
  messages: readonly MessageRow[];
  members: readonly Member[];
  typingNames: readonly string[];
  hasMoreHistory: boolean;
  maxContentCodePoints: number;
  /** Unsent text of the composer, kept while another room is open. */
  draft: string;
  onDraftChange: (draft: string) => void;
  send: (content: string) => void;
  setTyping: (typing: boolean) => void;
  loadOlder: () => Promise<unknown>;
  retry: (clientMessageId: string) => void;
  discard: (clientMessageId: string) => void;
}

/** Renders the open room: header, messages, typing line and composer, with the member list beside them. */
export function RoomView(props: RoomViewProps) {
  const { room, ownUserId, joining, joinError, messages, members, typingNames } = props;
  const [membersOpen, setMembersOpen] = useState(false);
  const toggleRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const previousTitle = document.title;
    document.title = `#${room} · Confab`;
    return () => {
      document.title = previousTitle;
    };
  }, [room]);

  useEffect(() => {
    if (!membersOpen) {
      return;
    }
    const closeOnEscape = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape') {
        setMembersOpen(false);
        toggleRef.current?.focus();
      }
    };
    window.addEventListener('keydown', closeOnEscape);
    return () => window.removeEventListener('keydown', closeOnEscape);
  }, [membersOpen]);

  return (
    <section className="room" aria-labelledby="room-title" data-testid="room" data-room={room}>
      <div className="room__main">
        <header className="room__header">
          <h2 id="room-title" className="room__title">
            #{room}
          </h2>
          {joining ? <span className="room__status">Joining…</span> : null}
          <button
            ref={toggleRef}
            type="button"
            className="button button--ghost room__members-toggle"
            aria-expanded={membersOpen}
            aria-controls="room-members"
            onClick={() => setMembersOpen((open) => !open)}
          >
            Members <span className="count">{members.length}</span>
          </button>
        </header>
        {joinError !== null ? (
          <div className="room__error" role="alert">
            <p>
              Could not join #{room}: {joinError}.
            </p>
          </div>
        ) : (
          <>
            <MessageList
              room={room}
              messages={messages}
              hasMoreHistory={props.hasMoreHistory}
              loadOlder={props.loadOlder}
              onRetry={props.retry}
              onDiscard={props.discard}
            />
            <TypingLine names={typingNames} />
            <Composer
              room={room}
              initialDraft={props.draft}
              onDraftChange={props.onDraftChange}
              maxContentCodePoints={props.maxContentCodePoints}
              onSend={props.send}
              onTyping={props.setTyping}
            />
          </>
        )}
      </div>
      <aside id="room-members" className={membersOpen ? 'room__aside room__aside--open' : 'room__aside'}>
        <PresencePanel members={members} ownUserId={ownUserId} />
      </aside>
    </section>
  );
}
