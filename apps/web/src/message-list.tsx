import { useCallback, useLayoutEffect, useRef, useState } from 'react';

import type { MessageRow } from './message-row';
import { MessageItem } from './message-item';

interface MessageListProps {
  room: string;
  messages: readonly MessageRow[];
  hasMoreHistory: boolean;
  loadOlder: () => Promise<unknown>;
  onRetry: (clientMessageId: string) => void;
  onDiscard: (clientMessageId: string) => void;
}

/** Distance from the top, in pixels, at which scrolling up starts loading the previous page. */
const LOAD_OLDER_THRESHOLD_PX = 80;
/** Distance from the bottom, in pixels, within which the list follows new messages. */
const STICK_TO_BOTTOM_THRESHOLD_PX = 48;

interface ScrollAnchor {
  firstKey: string | undefined;
  scrollHeight: number;
  scrollTop: number;
}

/**
 * Renders the scrolling list of a room's messages. It follows new messages while the reader is at the
 * bottom, loads older pages when they scroll to the top, and keeps the visible messages in place
 * when a page is prepended.
 */
export function MessageList({ room, messages, hasMoreHistory, loadOlder, onRetry, onDiscard }: MessageListProps) {
  const listRef = useRef<HTMLDivElement>(null);
  const anchorRef = useRef<ScrollAnchor | null>(null);
  const stickToBottomRef = useRef(true);
  const lastKeyRef = useRef<string | undefined>(undefined);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [unseenBelow, setUnseenBelow] = useState(false);

  const firstKey = messages[0]?.key;
  const lastMessage = messages[messages.length - 1];

  const requestOlder = useCallback(() => {
    const list = listRef.current;
    if (list === null || loadingOlder || !hasMoreHistory) {
      return;
    }

    anchorRef.current = { firstKey, scrollHeight: list.scrollHeight, scrollTop: list.scrollTop };
    setLoadingOlder(true);
    loadOlder()
      .catch(() => {
        // The list stays as it was, and the next scroll to the top tries again.
        anchorRef.current = null;
      })
      .finally(() => setLoadingOlder(false));
  }, [firstKey, hasMoreHistory, loadOlder, loadingOlder]);

  const handleScroll = useCallback(() => {
    const list = listRef.current;
    if (list === null) {
      return;
    }

    const distanceFromBottom = list.scrollHeight - list.scrollTop - list.clientHeight;
    stickToBottomRef.current = distanceFromBottom <= STICK_TO_BOTTOM_THRESHOLD_PX;
    if (stickToBottomRef.current) {
      setUnseenBelow(false);
    }
    if (list.scrollTop <= LOAD_OLDER_THRESHOLD_PX) {
      requestOlder();
    }
  }, [requestOlder]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list === null) {
      return;
    }

    const anchor = anchorRef.current;
    if (anchor !== null && anchor.firstKey !== firstKey) {
      // A page was prepended: shift by the height it added so the same messages stay in view.
      list.scrollTop = list.scrollHeight - anchor.scrollHeight + anchor.scrollTop;
      anchorRef.current = null;
    } else if (lastMessage !== undefined && lastMessage.key !== lastKeyRef.current) {
      if (stickToBottomRef.current || (lastMessage.own && lastMessage.status === 'pending')) {
        list.scrollTop = list.scrollHeight;
        stickToBottomRef.current = true;
      } else {
        setUnseenBelow(true);
      }
    }
    lastKeyRef.current = lastMessage?.key;
  }, [firstKey, lastMessage]);

  useLayoutEffect(() => {
    // A first page shorter than the viewport cannot be scrolled, so fetch more until it can.
    const list = listRef.current;
    if (list !== null && !loadingOlder && hasMoreHistory && list.scrollHeight <= list.clientHeight) {
      requestOlder();
    }
  }, [messages.length, hasMoreHistory, loadingOlder, requestOlder]);

  const scrollToBottom = () => {
    const list = listRef.current;
    if (list !== null) {
      list.scrollTop = list.scrollHeight;
    }
    stickToBottomRef.current = true;
    setUnseenBelow(false);
  };

  return (
    <div className="message-list" ref={listRef} onScroll={handleScroll} data-testid="message-list">
      <div className="message-list__start">
        {hasMoreHistory ? (
          <button type="button" className="link-button" onClick={requestOlder} disabled={loadingOlder}>
            {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        ) : (
          <p>This is the start of #{room}.</p>
        )}
      </div>
      <ol className="message-list__items" role="log" aria-label={`Messages in #${room}`}>
        {messages.map((message) => (
          <MessageItem key={message.key} message={message} onRetry={onRetry} onDiscard={onDiscard} />
        ))}
      </ol>
      {unseenBelow ? (
        <button type="button" className="message-list__jump" onClick={scrollToBottom}>
          New messages ↓
        </button>
      ) : null}
    </div>
  );
}
