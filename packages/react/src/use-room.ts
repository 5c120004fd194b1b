import {
  ConfabError,
  type ConfabClient,
  type ConnectionState,
  type Member,
  type Room,
  type RoomSnapshot,
  type RoomStatus,
  type SendAck,
  type UserRef,
} from '@confab/client';
import { useCallback, useMemo, useSyncExternalStore } from 'react';

import { mergeChatMessages, type ChatMessage } from './chat-message.js';
import { useConfabClient } from './use-confab-client.js';
import { useConnectionState } from './use-connection-state.js';

export interface UseRoomResult {
  /** The room object, or null before the component's first commit. */
  room: Room | null;
  status: RoomStatus;
  /** Delivered messages in seq order, then this client's pending and failed ones. */
  messages: readonly ChatMessage[];
  members: readonly Member[];
  typingUsers: readonly UserRef[];
  connectionState: ConnectionState;
  hasMoreHistory: boolean;
  loadingOlder: boolean;
  /** Reason of the failed join, when `status` is `failed`. */
  error: ConfabError | null;
  send(content: string): Promise<SendAck>;
  setTyping(typing: boolean): void;
  loadOlder(limit?: number): Promise<number>;
  retry(clientMessageId: string): Promise<SendAck>;
  discard(clientMessageId: string): void;
}

const NO_MESSAGES: readonly never[] = Object.freeze([]);
const UNKNOWN_SENDER: UserRef = Object.freeze({ id: '', name: '' });

/**
 * Joins a room while the component is mounted and returns its state and actions. Components
 * that use the same room share one join: the client counts them, and a StrictMode remount
 * sends no extra frame. The actions keep their identity until the client or room name changes,
 * and always act on the current room.
 *
 * @example
 * function Chat({ name }: { name: string }) {
 *   const { messages, send } = useRoom(name);
 *   return <ul>{messages.map((m) => <li key={m.key}>{m.sender.name}: {m.content}</li>)}</ul>;
 * }
 */
export function useRoom(roomName: string): UseRoomResult {
  const client = useConfabClient();
  const connectionState = useConnectionState();

  // Subscribing takes a reference on the room, so the join lives exactly as long as the subscription.
  const subscribe = useCallback(
    (onChange: () => void) => {
      const room = client.room(roomName);
      const stopListening = room.on('change', onChange);
      return () => {
        stopListening();
        room.leave();
      };
    },
    [client, roomName],
  );
  const getSnapshot = useCallback((): RoomSnapshot | null => client.getRoom(roomName)?.snapshot ?? null, [client, roomName]);
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  const user = client.user;
  const sender = useMemo<UserRef>(
    () => (user === null ? UNKNOWN_SENDER : { id: user.id, name: user.name }),
    [user],
  );
  const delivered = snapshot?.messages ?? NO_MESSAGES;
  const pending = snapshot?.pending ?? NO_MESSAGES;
  const messages = useMemo(() => mergeChatMessages(delivered, pending, sender), [delivered, pending, sender]);

  const send = useCallback(
    (content: string) => withRoom(client, roomName, (room) => room.send(content)),
    [client, roomName],
  );
  const setTyping = useCallback(
    (typing: boolean) => client.getRoom(roomName)?.setTyping(typing),
    [client, roomName],
  );
  const loadOlder = useCallback(
    (limit?: number) => withRoom(client, roomName, (room) => room.loadOlder(limit)),
    [client, roomName],
  );
  const retry = useCallback(
    (clientMessageId: string) => withRoom(client, roomName, (room) => room.retry(clientMessageId)),
    [client, roomName],
  );
  const discard = useCallback(
    (clientMessageId: string) => {
      client.getRoom(roomName)?.discard(clientMessageId);
    },
    [client, roomName],
  );

  return {
    room: client.getRoom(roomName) ?? null,
    status: snapshot?.status ?? 'joining',
    messages,
    members: snapshot?.members ?? NO_MESSAGES,
    typingUsers: snapshot?.typingUsers ?? NO_MESSAGES,
    connectionState,
    hasMoreHistory: snapshot?.hasMoreHistory ?? false,
    loadingOlder: snapshot?.loadingOlder ?? false,
    error: snapshot?.error ?? null,
    send,
    setTyping,
    loadOlder,
    retry,
    discard,
  };
}

/** Runs `action` on the room while a mounted hook has joined it, and rejects otherwise. */
function withRoom<T>(client: ConfabClient, roomName: string, action: (room: Room) => Promise<T>): Promise<T> {
  const room = client.getRoom(roomName);
  if (room === undefined || room.status === 'left') {
    return Promise.reject(
      new ConfabError('closed', `room ${roomName} is not held by a mounted useRoom; call actions after the component mounts`),
    );
  }
  return action(room);
}
