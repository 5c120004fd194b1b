/** @jsxRuntime automatic */
import 'global-jsdom/register';

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ConfabClient, type ConfabClientOptions, type ConnectionState } from '@confab/client';
import { StrictMode, useEffect, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import WebSocket from 'ws';

import { ConfabProvider, useConfabClient, useConnectionState, useRoom, type UseRoomResult } from '../src/index.js';
import { TestServer, waitFor } from '../../client/test/support/harness.js';
import { TcpProxy } from '../../client/test/support/tcp-proxy.js';

/** Creates a client of the built SDK, the one the hooks import, with fast retries for tests. */
function createClient(url: string, options: Partial<ConfabClientOptions> = {}): ConfabClient {
  return new ConfabClient({
    url,
    guestName: 'tester',
    WebSocket,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 1000 },
    requestTimeoutMs: 3000,
    ...options,
  });
}

/** Renders `ui` into a fresh container; returns the root and the container. */
function render(ui: ReactNode): { root: Root; container: HTMLElement } {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  root.render(ui);
  return { root, container };
}

/** Renders a room and keeps the hook's latest result in `probe.current`. */
function RoomProbe({ name, probe }: { name: string; probe: { current: UseRoomResult | null; renders: number } }): ReactNode {
  const result = useRoom(name);
  probe.current = result;
  probe.renders++;
  return (
    <ul>
      {result.messages.map((message) => (
        <li key={message.key} data-status={message.status}>
          {message.sender.name}: {message.content}
        </li>
      ))}
    </ul>
  );
}

function newProbe(): { current: UseRoomResult | null; renders: number } {
  return { current: null, renders: 0 };
}

function listText(container: HTMLElement): string[] {
  return Array.from(container.querySelectorAll('li')).map((item) => `${item.textContent} [${item.dataset['status']}]`);
}

describe('useRoom', () => {
  let server: TestServer;
  const cleanups: Array<() => void | Promise<void>> = [];

  before(async () => {
    server = await TestServer.start({ allowedOrigins: ['*'] });
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup();
    }
    await server.close();
  });

  function connected(name: string, url = server.url): ConfabClient {
    const client = createClient(url, { guestName: name });
    client.connect();
    cleanups.push(() => client.close());
    return client;
  }

  test('renders messages from others', async () => {
    const client = connected('alice');
    const other = connected('bob');
    const probe = newProbe();
    const { root, container } = render(
      <ConfabProvider client={client}>
        <RoomProbe name="render" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());

    await waitFor('joined', () => probe.current?.status === 'joined');
    assert.equal(probe.current?.connectionState, 'connected');
    const otherRoom = other.room('render');
    await otherRoom.send('hi from bob');
    await probe.current!.send('hi from alice');

    await waitFor('both rendered', () => listText(container).length === 2);
    assert.deepEqual(listText(container), ['bob: hi from bob [delivered]', 'alice: hi from alice [delivered]']);
    await waitFor('members', () => probe.current?.members.length === 2);
  });

  test('pending send shown, then delivered', async () => {
    const client = createClient(server.url, { guestName: 'offline' });
    cleanups.push(() => client.close());
    const probe = newProbe();
    const { root, container } = render(
      <ConfabProvider client={client}>
        <RoomProbe name="pending" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());
    await waitFor('mounted', () => probe.current?.room !== null && probe.current !== null);
    assert.equal(probe.current?.connectionState, 'disconnected');

    const sent = probe.current!.send('written offline');
    await waitFor('pending row', () => listText(container).length === 1);
    assert.deepEqual(listText(container), [': written offline [pending]']);

    client.connect();
    const ack = await sent;
    await waitFor('delivered row', () => listText(container)[0]?.endsWith('[delivered]') === true);
    assert.deepEqual(listText(container), ['offline: written offline [delivered]']);
    assert.equal(probe.current?.messages[0]?.seq, ack.seq);
  });

  test('StrictMode joins once', async () => {
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const joins: string[] = [];
    proxy.inspectServerFrames = (text) => {
      const frame = JSON.parse(text) as { type: string; room?: string };
      if (frame.type === 'joined' || frame.type === 'left') {
        joins.push(`${frame.type}:${frame.room}`);
      }
      return 'pass';
    };
    const client = connected('strict', proxy.url);
    // Connected first, so that the mount, unmount and remount all happen on a live session.
    await waitFor('connected', () => client.state === 'connected');
    const probe = newProbe();
    const { root } = render(
      <StrictMode>
        <ConfabProvider client={client}>
          <RoomProbe name="strict" probe={probe} />
          <RoomProbe name="strict" probe={newProbe()} />
        </ConfabProvider>
      </StrictMode>,
    );
    cleanups.push(() => root.unmount());

    await waitFor('joined', () => probe.current?.status === 'joined');
    const room = client.getRoom('strict');
    assert.ok(room !== undefined);
    assert.equal(room.references, 2, 'one reference per mounted hook');
    assert.equal(room.listenerCount('change'), 2, 'one listener per mounted hook');

    await probe.current!.send('once');
    await waitFor('rendered', () => probe.current?.messages.length === 1);
    assert.deepEqual(joins, ['joined:strict']);

    root.unmount();
    await waitFor('left', () => joins.length === 2);
    assert.deepEqual(joins, ['joined:strict', 'left:strict']);
    assert.equal(client.getRoom('strict'), undefined);
    assert.equal(room.listenerCount('change'), 0);
  });

  test('actions keep identity across renders', async () => {
    const client = connected('stable');
    const other = connected('noisy');
    const probe = newProbe();
    const { root } = render(
      <ConfabProvider client={client}>
        <RoomProbe name="stable" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());
    await waitFor('joined', () => probe.current?.status === 'joined');
    const first = probe.current!;

    await other.room('stable').send('cause a render');
    await waitFor('rendered again', () => probe.current!.messages.length === 1);
    const second = probe.current!;
    assert.notEqual(first, second);
    for (const action of ['send', 'setTyping', 'loadOlder', 'retry', 'discard'] as const) {
      assert.equal(second[action], first[action], action);
    }
  });

  test('room name change moves the join', async () => {
    const client = connected('mover');
    const probe = newProbe();
    const { root } = render(
      <ConfabProvider client={client}>
        <RoomProbe name="first-room" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());
    await waitFor('first joined', () => probe.current?.status === 'joined');

    root.render(
      <ConfabProvider client={client}>
        <RoomProbe name="second-room" probe={probe} />
      </ConfabProvider>,
    );
    await waitFor('second joined', () => client.getRoom('second-room')?.status === 'joined' && probe.current?.status === 'joined');
    await waitFor('first left', () => client.getRoom('first-room') === undefined);
    await probe.current!.send('in the second room');
    await waitFor('delivered', () => probe.current?.messages[0]?.content === 'in the second room');
  });

  test('typing users and loadOlder', async () => {
    const client = connected('typist', server.url);
    const other = connected('watcher');
    const writer = other.room('older');
    for (let index = 1; index <= 5; index++) {
      await writer.send(`m${index}`);
    }

    const reader = createClient(server.url, { guestName: 'reader', initialHistoryLimit: 2 });
    reader.connect();
    cleanups.push(() => reader.close());
    const probe = newProbe();
    const { root } = render(
      <ConfabProvider client={reader}>
        <RoomProbe name="older" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());

    await waitFor('latest page', () => probe.current?.messages.length === 2);
    assert.equal(probe.current?.hasMoreHistory, true);
    assert.equal(await probe.current!.loadOlder(10), 3);
    await waitFor('older rendered', () => probe.current?.messages.length === 5);
    assert.equal(probe.current?.hasMoreHistory, false);

    const typistRoom = client.room('older');
    await waitFor('typist joined', () => typistRoom.status === 'joined');
    typistRoom.setTyping(true);
    await waitFor('typing shown', () => probe.current?.typingUsers.some((user) => user.name === 'typist') === true);
    typistRoom.setTyping(false);
    await waitFor('typing cleared', () => probe.current?.typingUsers.length === 0);
  });

  test('connection state follows the client', async () => {
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const client = createClient(proxy.url, { guestName: 'stateful' });
    cleanups.push(() => client.close());
    const seen: ConnectionState[] = [];
    function StateProbe(): ReactNode {
      const state = useConnectionState();
      useEffect(() => {
        seen.push(state);
      }, [state]);
      return <span>{state}</span>;
    }
    const { root, container } = render(
      <ConfabProvider client={client}>
        <StateProbe />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());

    await waitFor('first render', () => container.textContent === 'disconnected');
    client.connect();
    await waitFor('connected', () => container.textContent === 'connected');
    proxy.cutAll();
    await waitFor('reconnected', () => seen.includes('reconnecting') && container.textContent === 'connected');
    assert.equal(seen[0], 'disconnected');
    assert.ok(seen.includes('connected'));
  });

  test('browser WebSocket path works', async () => {
    // jsdom provides a global WebSocket, as a browser does; the client picks it without options.
    assert.equal(typeof globalThis.WebSocket, 'function');
    const client = new ConfabClient({ url: server.url, guestName: 'browser' });
    client.connect();
    cleanups.push(() => client.close());
    const probe = newProbe();
    const { root } = render(
      <ConfabProvider client={client}>
        <RoomProbe name="browser" probe={probe} />
      </ConfabProvider>,
    );
    cleanups.push(() => root.unmount());
    await waitFor('joined', () => probe.current?.status === 'joined');
    await probe.current!.send('through the global WebSocket');
    await waitFor('delivered', () => probe.current?.messages[0]?.status === 'delivered');
  });

  test('hooks outside the provider throw', () => {
    function Orphan(): ReactNode {
      useConfabClient();
      return null;
    }
    const errors: unknown[] = [];
    const container = document.createElement('div');
    const root = createRoot(container, { onUncaughtError: (error) => errors.push(error) });
    root.render(<Orphan />);
    return waitFor('error reported', () => errors.length > 0).then(() => {
      root.unmount();
      assert.match(String(errors[0]), /outside <ConfabProvider/);
    });
  });
});
