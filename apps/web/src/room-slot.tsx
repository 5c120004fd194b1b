import { useRoom } from '@confab/react';
import { useEffect, useMemo, useRef } from 'react';

import { countUnread } from './count-unread';
import { describeError } from './describe-error';
import { ownMessageIds } from './own-message-ids';
import { RoomView } from './room-view';
import { toMessageRows } from './to-message-rows';

interface RoomSlotProps {
  room: string;
  /** Whether this is the open room. The others stay joined but render nothing. */
  active: boolean;
  ownUserId: string | null;
  ownUserName: string;
  maxContentCodePoints: number;
  onUnreadChange: (room: string, unread: number) => void;
}

/** Keeps one room joined through the room hook and renders it when it is the open room. */
export function RoomSlot(props: RoomSlotProps) {
  const { room, active, ownUserId, ownUserName, maxContentCodePoints, onUnreadChange } = props;
  const state = useRoom(room);
  const draftRef = useRef('');
  // Seq of the newest message the user has had on screen. It is null until the first history page is in.
  const lastSeenSeqRef = useRef<number | null>(null);

  useEffect(() => {
    const sentIds = state.messages.filter((message) => message.status !== 'delivered');
    ownMessageIds.add(sentIds.map((message) => message.clientMessageId));
  }, [state.messages]);

  const newestSeq = useMemo(() => {
    const delivered = state.messages.filter((message) => message.seq !== null);
    return delivered[delivered.length - 1]?.seq ?? 0;
  }, [state.messages]);
  const initialLoadDone = state.status === 'joined' && !state.loadingOlder;

  useEffect(() => {
    // The history loaded with the first join counts as seen, so that rejoined rooms start at zero.
    if (active || (lastSeenSeqRef.current === null && initialLoadDone)) {
      lastSeenSeqRef.current = newestSeq;
    }
    const lastSeenSeq = lastSeenSeqRef.current;
    const unread =
      lastSeenSeq === null
        ? 0
        : countUnread(
            state.messages,
            lastSeenSeq,
            (message) => message.sender.id === ownUserId || ownMessageIds.has(message.clientMessageId),
          );
    onUnreadChange(room, unread);
  }, [active, initialLoadDone, newestSeq, state.messages, ownUserId, room, onUnreadChange]);

  const rows = useMemo(
    () =>
      toMessageRows(state.messages, {
        ownUserId,
        ownUserName,
        isOwnClientMessageId: (id) => ownMessageIds.has(id),
      }),
    [state.messages, ownUserId, ownUserName],
  );
  const typingNames = useMemo(() => state.typingUsers.map((user) => user.name), [state.typingUsers]);

  if (!active) {
    return null;
  }

  // Failures of send and retry show up as failed rows, so the rejected promises need no handler.
  return (
    <RoomView
      room={room}
      ownUserId={ownUserId}
      joining={state.status === 'joining'}
      joinError={state.status === 'failed' ? describeError(state.error) : null}
      messages={rows}
      members={state.members}
      typingNames={typingNames}
      hasMoreHistory={state.hasMoreHistory}
      maxContentCodePoints={maxContentCodePoints}
      draft={draftRef.current}
      onDraftChange={(draft) => {
        draftRef.current = draft;
      }}
      send={(content) => void state.send(content).catch(() => undefined)}
      setTyping={state.setTyping}
      loadOlder={state.loadOlder}
      retry={(id) => void state.retry(id).catch(() => undefined)}
      discard={state.discard}
    />
  );
}
