import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { ConnectionState } from '../src/index.js';
import { ConfabError } from '../src/index.js';
import { createClient, delay, signToken, TestServer, waitFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';

const SECRET = 'connection-test-secret-that-is-long-enough';

function recordStates(client: ReturnType<typeof createClient>): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', ({ oldState, newState }) => {
    assert.notEqual(oldState, newState);
    states.push(newState);
  });
  return states;
}

describe('ConfabClient connection', () => {
  let guests: TestServer;
  let secured: TestServer;

  before(async () => {
    guests = await TestServer.start();
    secured = await TestServer.start({ jwtSecret: SECRET, allowGuests: false });
  });

  after(async () => {
    await guests.close();
    await secured.close();
  });

  test('guest connects and closes', async () => {
    const client = createClient(guests.url, { guestName: 'alice' });
    const states = recordStates(client);
    assert.equal(client.state, 'disconnected');

    client.connect();
    await waitFor('connected', () => client.state === 'connected');
    assert.equal(client.user?.name, 'alice');
    assert.equal(client.user?.guest, true);
    assert.equal(typeof client.epoch, 'string');
    const pong = await client.ping();
    assert.equal(typeof pong.serverTime, 'number');

    client.close();
    assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
  });

  test('token function runs per connection', async () => {
    const proxy = await TcpProxy.start(secured.port);
    let calls = 0;
    const client = createClient(proxy.url, {
      guestName: undefined,
      token: async () => {
        calls++;
        return signToken(SECRET, { sub: 'user-1', name: 'Una' });
      },
    });
    const states = recordStates(client);
    try {
      client.connect();
      await waitFor('connected', () => client.state === 'connected');
      assert.equal(client.user?.id, 'user-1');
      assert.equal(client.user?.name, 'Una');
      assert.equal(calls, 1);

      proxy.cutAll();
      await waitFor('reconnected', () => states.filter((state) => state === 'connected').length === 2);
      assert.equal(calls, 2);
      assert.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'connected']);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  test('rejected token stops reconnecting', async () => {
    const client = createClient(secured.url, { guestName: undefined, token: 'not-a-jwt' });
    const states = recordStates(client);
    const errors: ConfabError[] = [];
    const disconnects: boolean[] = [];
    client.on('error', (error) => errors.push(error));
    client.on('disconnect', ({ willReconnect }) => disconnects.push(willReconnect));

    client.connect();
    await waitFor('disconnected', () => client.state === 'disconnected');
    // Long enough for several retries at the test's 50 ms backoff, had the client retried.
    await delay(400);

    assert.deepEqual(states, ['connecting', 'disconnected']);
    assert.deepEqual(
      errors.map((error) => error.code),
      ['unauthorized'],
    );
    assert.deepEqual(disconnects, [false]);
    client.close();
  });

  test('guest sign-in refused when disabled', async () => {
    const client = createClient(secured.url, { guestName: 'mallory' });
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    client.connect();
    await waitFor('disconnected', () => client.state === 'disconnected' && errors.length > 0);
    assert.equal(errors[0], 'guests_disabled');
    client.close();
  });

  test('token function failure retries', async () => {
    let calls = 0;
    const client = createClient(secured.url, {
      guestName: undefined,
      token: () => {
        calls++;
        if (calls < 3) {
          throw new Error('identity provider down');
        }
        return signToken(SECRET, { sub: 'user-2' });
      },
    });
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    client.connect();
    await waitFor('connected', () => client.state === 'connected');
    assert.deepEqual(errors, ['token_unavailable', 'token_unavailable']);
    assert.equal(calls, 3);
    client.close();
  });

  test('unreachable server keeps retrying', async () => {
    // A proxy whose target port has nothing listening: every attempt is refused.
    const proxy = await TcpProxy.start(1);
    const client = createClient(proxy.url);
    const disconnects: boolean[] = [];
    client.on('disconnect', ({ willReconnect }) => disconnects.push(willReconnect));
    try {
      client.connect();
      await waitFor('three failed attempts', () => disconnects.length >= 3);
      assert.equal(client.state, 'reconnecting');
      assert.ok(disconnects.every((willReconnect) => willReconnect));

      proxy.setTarget(guests.port);
      await waitFor('connected once the server is reachable', () => client.state === 'connected');
    } finally {
      client.close();
      await proxy.close();
    }
    assert.equal(client.state, 'disconnected');
  });

  test('silent connection dropped by heartbeat', async () => {
    const proxy = await TcpProxy.start(guests.port);
    const client = createClient(proxy.url, { heartbeatIntervalMs: 100, requestTimeoutMs: 300 });
    const states = recordStates(client);
    try {
      client.connect();
      await waitFor('connected', () => client.state === 'connected');

      proxy.blackhole = true;
      await waitFor('heartbeat noticed the silence', () => client.state === 'reconnecting');
      proxy.cutAll();
      proxy.blackhole = false;
      await waitFor('reconnected', () => client.state === 'connected');
      assert.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'connected']);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  test('server restart reconnects', async () => {
    const server = await TestServer.start();
    const proxy = await TcpProxy.start(server.port);
    const client = createClient(proxy.url);
    const closeCodes: number[] = [];
    client.on('disconnect', ({ code }) => closeCodes.push(code));
    try {
      client.connect();
      await waitFor('connected', () => client.state === 'connected');
      const epoch = client.epoch;

      await server.restart();
      proxy.setTarget(server.port);
      await waitFor('reconnected', () => client.state === 'connected' && closeCodes.length > 0);
      assert.equal(closeCodes[0], 1012);
      assert.equal(client.epoch, epoch, 'same database, same epoch');
    } finally {
      client.close();
      await proxy.close();
      await server.close();
    }
  });

  test('guest keeps its id across restarts', async () => {
    const server = await TestServer.start();
    const proxy = await TcpProxy.start(server.port);
    const client = createClient(proxy.url, { guestName: 'alice' });
    const persisted = createClient(server.url, { guestName: 'alice', guestKey: 'persisted-key-0123456789' });
    try {
      client.connect();
      persisted.connect();
      await waitFor('connected', () => client.state === 'connected' && persisted.state === 'connected');
      const firstId = client.user?.id;
      const persistedId = persisted.user?.id;
      persisted.close();

      await server.restart();
      proxy.setTarget(server.port);
      await waitFor('reconnected', () => client.state === 'connected' && client.user?.id !== undefined);
      const again = createClient(server.url, { guestName: 'alice', guestKey: 'persisted-key-0123456789' });
      again.connect();
      await waitFor('connected again', () => again.state === 'connected');
      const againId = again.user?.id;
      again.close();

      assert.equal(client.user?.id, firstId, 'one client keeps its guest id after a reconnect');
      assert.equal(againId, persistedId, 'a persisted guest key gives the same id to a new client');
      assert.notEqual(persistedId, firstId, 'different keys give different ids');
    } finally {
      client.close();
      await proxy.close();
      await server.close();
    }
  });

  test('invalid arguments throw', () => {
    assert.throws(() => createClient('http://127.0.0.1:1/ws'), { code: 'invalid_field' });
    assert.throws(() => createClient('not a url'), { code: 'invalid_field' });
    assert.throws(() => createClient('ws://127.0.0.1:1/ws', { guestName: undefined }), { code: 'invalid_field' });
    const client = createClient(guests.url);
    assert.throws(() => client.room('bad room name!'), (error: unknown) => {
      assert.ok(error instanceof ConfabError);
      assert.equal(error.code, 'invalid_field');
      assert.match(error.message, /room name "bad room name!" is invalid/);
      return true;
    });
  });
});
