import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { nowSeconds, signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 30_000;

/** Options for a server that accepts only HS256 tokens signed with TEST_JWT_SECRET. */
const TOKEN_SERVER = { jwtSecret: TEST_JWT_SECRET };

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Builds an unsigned token (`alg: none`) by hand, since no signing library produces one. */
function unsignedToken(payload: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
}

/** Replaces a signed token's payload and keeps its signature, as a forger would. */
function withPayload(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(payload)}.${signature}`;
}

describe('auth', () => {
  test('guest sign-in returns welcome', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const reply = await client.request({ type: 'auth', guest: { name: '  Ada  ' } });

    assert.equal(reply.type, 'welcome');
    if (reply.type !== 'welcome') return;
    assert.equal(reply.protocol, 'confab.v1');
    assert.equal(reply.user.guest, true);
    assert.equal(reply.user.name, 'Ada');
    assert.match(reply.user.id, /^guest-/);
    assert.equal(typeof reply.epoch, 'string');
    assert.equal(typeof reply.sessionId, 'string');
    assert.equal(reply.limits.maxContentCodePoints, 4000);
  });

  test('guest sign-in gives each guest its own id', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const first = await TestClient.guest(server.url, 'Ada');
    const second = await TestClient.guest(server.url, 'Ada');

    assert.notEqual(first.userId, second.userId);
  });

  test('guest name rules: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    for (const name of ['', '   ', 'bell\u0007', 'x'.repeat(65)]) {
      const client = await TestClient.connect(server.url);
      const error = await client.requestError({ type: 'auth', guest: { name } });
      assert.equal(error.code, 'invalid_field', `name ${JSON.stringify(name)}`);
      assert.equal(error.field, 'guest.name', `name ${JSON.stringify(name)}`);
      client.close();
    }
  });

  test('HS256 token: sub and name claim', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const token = await signTestToken({ sub: 'alice', name: 'Alice Liddell' });
    const client = await TestClient.connect(server.url);
    const reply = await client.request({ type: 'auth', token });

    assert.equal(reply.type, 'welcome');
    if (reply.type !== 'welcome') return;
    assert.equal(reply.user.id, 'alice');
    assert.equal(reply.user.name, 'Alice Liddell');
    assert.equal(reply.user.guest, false);
  });

  test('token without name claim: name is sub', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const client = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));

    assert.equal(client.welcome?.user.name, 'bob');
  });

  test('expired token: token_expired, close 4002', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const token = await signTestToken({ sub: 'alice' }, { exp: nowSeconds() - 60 });
    const client = await TestClient.connect(server.url);
    const error = await client.requestError({ type: 'auth', token });
    const close = await client.waitForClose();

    assert.equal(error.code, 'token_expired');
    assert.equal(close.code, CLOSE_CODES.authFailed);
  });

  describe('rejected tokens: unauthorized, close 4002', () => {
    const cases: { name: string; token: () => Promise<string> }[] = [
      {
        name: 'wrong key',
        token: () => signTestToken({ sub: 'alice' }, { key: 'another-secret-of-enough-length-0123456789' }),
      },
      {
        name: 'alg none',
        token: async () => unsignedToken({ sub: 'alice', exp: nowSeconds() + 3600 }),
      },
      {
        name: 'tampered payload',
        token: async () =>
          withPayload(await signTestToken({ sub: 'alice' }), { sub: 'admin', exp: nowSeconds() + 3600 }),
      },
      {
        name: 'missing exp',
        token: () => signTestToken({ sub: 'alice' }, { exp: null }),
      },
      {
        name: 'nbf in the future',
        token: () => signTestToken({ sub: 'alice', nbf: nowSeconds() + 3600 }),
      },
      {
        name: 'missing sub',
        token: () => signTestToken({ name: 'Nobody' }),
      },
      {
        name: 'rooms claim not an array',
        token: () => signTestToken({ sub: 'alice', rooms: 'lobby' }),
      },
      {
        name: 'not a JWT',
        token: async () => 'not-a-token',
      },
    ];

    for (const { name, token } of cases) {
      test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { server, stop } = await startTestServer(TOKEN_SERVER);
        t.after(stop);

        const client = await TestClient.connect(server.url);
        const error = await client.requestError({ type: 'auth', token: await token() });
        const close = await client.waitForClose();

        assert.equal(error.code, 'unauthorized');
        assert.equal(close.code, CLOSE_CODES.authFailed);
      });
    }
  });

  for (const { alg, keyType } of [
    { alg: 'RS256', keyType: 'rsa' },
    { alg: 'ES256', keyType: 'ec' },
  ] as const) {
    test(`${alg} public key: valid and forged tokens`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const generate = () =>
        keyType === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pair = generate();
      const otherPair = generate();
      const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const { server, stop } = await startTestServer({ jwtPublicKey: publicPem });
      t.after(stop);

      const valid = await TestClient.withToken(
        server.url,
        await signTestToken({ sub: 'carol', name: 'Carol' }, { key: pair.privateKey, alg }),
      );
      assert.equal(valid.welcome?.user.id, 'carol');
      assert.equal(valid.welcome?.user.name, 'Carol');

      const otherKey = await TestClient.connect(server.url);
      const otherKeyError = await otherKey.requestError({
        type: 'auth',
        token: await signTestToken({ sub: 'carol' }, { key: otherPair.privateKey, alg }),
      });
      assert.equal(otherKeyError.code, 'unauthorized');
      assert.equal((await otherKey.waitForClose()).code, CLOSE_CODES.authFailed);

      // A verifier that let the token pick its algorithm would check this HMAC with the public
      // key's PEM text as the secret.
      const confused = await TestClient.connect(server.url);
      const confusedError = await confused.requestError({
        type: 'auth',
        token: await signTestToken({ sub: 'admin' }, { key: publicPem, alg: 'HS256' }),
      });
      assert.equal(confusedError.code, 'unauthorized');
      assert.equal((await confused.waitForClose()).code, CLOSE_CODES.authFailed);
    });
  }

  test('issuer and audience: enforced when set', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ ...TOKEN_SERVER, jwtIssuer: 'https://issuer.test', jwtAudience: 'confab' });
    t.after(stop);

    const valid = await TestClient.withToken(
      server.url,
      await signTestToken({ sub: 'alice', iss: 'https://issuer.test', aud: 'confab' }),
    );
    assert.equal(valid.welcome?.user.id, 'alice');

    const wrongClaims: Record<string, unknown>[] = [
      { sub: 'alice', aud: 'confab' },
      { sub: 'alice', iss: 'https://other.test', aud: 'confab' },
      { sub: 'alice', iss: 'https://issuer.test' },
      { sub: 'alice', iss: 'https://issuer.test', aud: 'another-app' },
    ];
    for (const claims of wrongClaims) {
      const client = await TestClient.connect(server.url);
      const error = await client.requestError({ type: 'auth', token: await signTestToken(claims) });
      assert.equal(error.code, 'unauthorized', JSON.stringify(claims));
      assert.equal((await client.waitForClose()).code, CLOSE_CODES.authFailed, JSON.stringify(claims));
    }
  });

  test('identity not read from query string', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const adminToken = await signTestToken({ sub: 'admin' });
    const client = await TestClient.connect(
      `${server.url}?user=admin&userId=admin&token=${encodeURIComponent(adminToken)}`,
    );
    const beforeAuth = await client.requestError({ type: 'join', room: 'lobby' });
    const reply = await client.request({ type: 'auth', token: await signTestToken({ sub: 'alice' }) });

    assert.equal(beforeAuth.code, 'unauthorized');
    assert.equal(reply.type, 'welcome');
    if (reply.type !== 'welcome') return;
    assert.equal(reply.user.id, 'alice');
  });

  test('identity fields in frames: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const unauthenticated = await TestClient.connect(server.url);
    const authError = await unauthenticated.requestError({ type: 'auth', guest: { name: 'Eve' }, userId: 'admin' });
    assert.equal(authError.code, 'invalid_field');
    assert.equal(authError.field, 'userId');

    const client = await TestClient.guest(server.url, 'Eve');
    const joinError = await client.requestError({ type: 'join', room: 'lobby', userId: 'admin' });
    assert.equal(joinError.code, 'invalid_field');
    await client.join('lobby');

    const senderError = await client.requestError({
      type: 'send',
      room: 'lobby',
      clientMessageId: 'forged-1',
      content: 'as admin',
      sender: { id: 'admin', name: 'Admin' },
    });
    assert.equal(senderError.code, 'invalid_field');
    assert.equal(senderError.field, 'sender');

    const userIdError = await client.requestError({
      type: 'send',
      room: 'lobby',
      clientMessageId: 'forged-2',
      content: 'as admin',
      userId: 'admin',
    });
    assert.equal(userIdError.code, 'invalid_field');
    assert.equal(userIdError.field, 'userId');

    await client.sendMessage('lobby', 'honest', 'honest-1');
    const history = await client.request({ type: 'history', room: 'lobby' });
    assert.equal(history.type, 'history');
    if (history.type !== 'history') return;
    assert.deepEqual(
      history.events.map((event) => event.clientMessageId),
      ['honest-1'],
    );
    assert.equal(history.events[0]?.sender.id, client.userId);
    assert.equal(history.events[0]?.sender.name, 'Eve');
  });

  test('frames before auth: unauthorized, stays open', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const frames = [
      { type: 'join', room: 'lobby' },
      { type: 'leave', room: 'lobby' },
      { type: 'send', room: 'lobby', clientMessageId: 'c1', content: 'hi' },
      { type: 'history', room: 'lobby' },
      { type: 'typing', room: 'lobby', typing: true, requestId: 'typing-1' },
      { type: 'ping' },
    ];
    for (const frame of frames) {
      const error = await client.requestError(frame);
      assert.equal(error.code, 'unauthorized', `frame ${frame.type}`);
    }
    const welcome = await client.request({ type: 'auth', guest: { name: 'Late' } });

    assert.equal(welcome.type, 'welcome');
  });

  test('frames pipelined after auth: handled after it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    // A client may send its first requests without waiting for `welcome`.
    const client = await TestClient.connect(server.url);
    const replies = await Promise.all([
      client.request({ type: 'auth', guest: { name: 'Eager' } }),
      client.request({ type: 'join', room: 'lobby' }),
      client.request({ type: 'send', room: 'lobby', clientMessageId: 'eager-1', content: 'hi' }),
      client.request({ type: 'history', room: 'lobby' }),
    ]);

    assert.deepEqual(
      replies.map((reply) => reply.type),
      ['welcome', 'joined', 'sent', 'history'],
    );
  });

  test('no auth in time: close 4001', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ authTimeoutMs: 300 });
    t.after(stop);

    const silent = await TestClient.connect(server.url);
    const chatty = await TestClient.connect(server.url);
    const pingError = await chatty.requestError({ type: 'ping' });

    assert.equal(pingError.code, 'unauthorized');
    assert.equal((await silent.waitForClose()).code, CLOSE_CODES.authTimeout);
    assert.equal((await chatty.waitForClose()).code, CLOSE_CODES.authTimeout);
  });

  test('authenticated connection outlives auth timeout', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ authTimeoutMs: 300 });
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const pong = await client.request({ type: 'ping' });

    assert.equal(pong.type, 'pong');
  });

  test('guests disabled: guests_disabled', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ ...TOKEN_SERVER, allowGuests: false });
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const error = await client.requestError({ type: 'auth', guest: { name: 'Ada' } });
    const close = await client.waitForClose();

    assert.equal(error.code, 'guests_disabled');
    assert.equal(close.code, CLOSE_CODES.authFailed);
  });

  test('guests disabled by default with a JWT key', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const error = await client.requestError({ type: 'auth', guest: { name: 'Ada' } });

    assert.equal(error.code, 'guests_disabled');
  });

  test('second auth: already_authenticated', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const client = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice' }));
    const error = await client.requestError({ type: 'auth', token: await signTestToken({ sub: 'admin' }) });
    const pong = await client.request({ type: 'ping' });
    const joined = await client.join('lobby');

    assert.equal(error.code, 'already_authenticated');
    assert.equal(pong.type, 'pong');
    assert.deepEqual(
      joined.members.map((member) => member.id),
      ['alice'],
    );
  });

  test('maxConnectionsPerUser: too_many_connections, close 4003', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ ...TOKEN_SERVER, maxConnectionsPerUser: 2 });
    t.after(stop);

    const token = await signTestToken({ sub: 'alice' });
    const first = await TestClient.withToken(server.url, token);
    await TestClient.withToken(server.url, token);
    const third = await TestClient.connect(server.url);
    const error = await third.requestError({ type: 'auth', token });
    const close = await third.waitForClose();
    const otherUser = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));

    assert.equal(error.code, 'too_many_connections');
    assert.equal(close.code, CLOSE_CODES.tooManyConnections);
    assert.equal(otherUser.welcome?.user.id, 'bob');

    // A closed connection frees its place once the server has seen the close, which may come a
    // moment after the client's own close event, so the sign-in is retried for a bounded time.
    first.close();
    await first.waitForClose();
    const deadline = Date.now() + 3000;
    let replyType = '';
    while (replyType !== 'welcome' && Date.now() < deadline) {
      const replacement = await TestClient.connect(server.url);
      replyType = (await replacement.request({ type: 'auth', token })).type;
    }
    assert.equal(replyType, 'welcome');
  });

  test('rooms claim: patterns limit join and history', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_SERVER);
    t.after(stop);

    const client = await TestClient.withToken(
      server.url,
      await signTestToken({ sub: 'alice', rooms: ['team-*', 'lobby'] }),
    );

    const lobby = await client.request({ type: 'join', room: 'lobby' });
    const team = await client.request({ type: 'join', room: 'team-red' });
    assert.equal(lobby.type, 'joined');
    assert.equal(team.type, 'joined');

    for (const room of ['other', 'team', 'xteam-red', 'lobby2']) {
      const error = await client.requestError({ type: 'join', room });
      assert.equal(error.code, 'forbidden', `join ${room}`);
    }

    const historyError = await client.requestError({ type: 'history', room: 'other' });
    assert.equal(historyError.code, 'forbidden');
    const allowedHistory = await client.request({ type: 'history', room: 'team-blue' });
    assert.equal(allowedHistory.type, 'history');
  });
});
