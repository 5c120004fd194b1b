import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';
import { WebSocket } from 'ws';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { nowSeconds, signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

const TEST_TIMEOUT_MS = 30_000;
const ALLOWED_ORIGIN = 'https://chat.example.com';
const RESTRICTED = { allowedOrigins: [ALLOWED_ORIGIN] };
/** A server where nothing works without a valid token. */
const TOKEN_ONLY = { ...RESTRICTED, jwtSecret: TEST_JWT_SECRET, allowGuests: false };

/** Attempts a WebSocket upgrade and resolves with the HTTP status: 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['confab.v1'], { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      ws.terminate();
      resolve(response.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

describe('origin', { timeout: TEST_TIMEOUT_MS }, () => {
  test('foreign origin: 403 before upgrade', async (t) => {
    const { server, stop } = await startTestServer(RESTRICTED);
    t.after(stop);

    const status = await upgradeStatus(server.url, { Origin: 'https://attacker.example' });

    assert.equal(status, 403);
    assert.equal(server.connectionCount, 0, 'no session was created for the refused upgrade');
  });

  const ORIGIN_CASES: { name: string; origin: (port: number) => string; status: number }[] = [
    { name: 'allowed origin', origin: () => ALLOWED_ORIGIN, status: 101 },
    { name: 'allowed origin in upper case', origin: () => 'HTTPS://CHAT.EXAMPLE.COM', status: 101 },
    { name: 'same origin as the server', origin: (port) => `http://127.0.0.1:${port}`, status: 101 },
    { name: 'same host, other port', origin: () => 'http://127.0.0.1:1', status: 403 },
    { name: 'allowed origin over http', origin: () => 'http://chat.example.com', status: 403 },
    { name: 'allowed name as a prefix', origin: () => 'https://chat.example.com.attacker.example', status: 403 },
    { name: 'allowed name as a suffix', origin: () => 'https://evilchat.example.com', status: 403 },
    { name: 'opaque origin', origin: () => 'null', status: 403 },
    { name: 'not a URL', origin: () => '%%%', status: 403 },
  ];
  for (const { name, origin, status } of ORIGIN_CASES) {
    test(`${name}: ${status}`, async (t) => {
      const { server, stop } = await startTestServer(RESTRICTED);
      t.after(stop);

      assert.equal(await upgradeStatus(server.url, { Origin: origin(server.port) }), status);
    });
  }

  test('allowed origin: session works', async (t) => {
    const { server, stop } = await startTestServer(RESTRICTED);
    t.after(stop);

    const client = await TestClient.connect(server.url, { headers: { Origin: ALLOWED_ORIGIN } });
    const welcome = await client.request({ type: 'auth', guest: { name: 'Ada' } });

    assert.equal(welcome.type, 'welcome');
  });

  test('no origin, no token: must authenticate', async (t) => {
    const { server, stop } = await startTestServer(RESTRICTED);
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const joinError = await client.requestError({ type: 'join', room: 'r1' });
    const sendError = await client.requestError({ type: 'send', room: 'r1', clientMessageId: 'c1', content: 'hi' });
    const historyError = await client.requestError({ type: 'history', room: 'r1' });

    assert.equal(joinError.code, 'unauthorized');
    assert.equal(sendError.code, 'unauthorized');
    assert.equal(historyError.code, 'unauthorized');
  });

  test('unauthenticated socket: closed 4001 after the auth timeout', async (t) => {
    const { server, stop } = await startTestServer({ ...RESTRICTED, authTimeoutMs: 300 });
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const closed = await client.waitForClose();

    assert.equal(closed.code, CLOSE_CODES.authTimeout);
  });

  test('token-only server: guest refused', async (t) => {
    const { server, stop } = await startTestServer(TOKEN_ONLY);
    t.after(stop);

    const client = await TestClient.connect(server.url);
    const error = await client.requestError({ type: 'auth', guest: { name: 'Eve' } });
    const closed = await client.waitForClose();

    assert.equal(error.code, 'guests_disabled');
    assert.equal(closed.code, CLOSE_CODES.authFailed);
  });

  const BAD_TOKENS: { name: string; token: () => Promise<string>; code: string }[] = [
    { name: 'garbage token', token: async () => 'not-a-token', code: 'unauthorized' },
    {
      name: 'token signed with another secret',
      token: () => signTestToken({ sub: 'eve' }, { key: 'another-secret-that-is-long-enough-0123456789' }),
      code: 'unauthorized',
    },
    { name: 'expired token', token: () => signTestToken({ sub: 'eve' }, { exp: nowSeconds() - 60 }), code: 'token_expired' },
  ];
  for (const { name, token, code } of BAD_TOKENS) {
    test(`token-only server, ${name}: ${code}`, async (t) => {
      const { server, stop } = await startTestServer(TOKEN_ONLY);
      t.after(stop);

      const client = await TestClient.connect(server.url);
      const error = await client.requestError({ type: 'auth', token: await token() });
      const closed = await client.waitForClose();

      assert.equal(error.code, code);
      assert.equal(closed.code, CLOSE_CODES.authFailed);
    });
  }

  test('token in the query string: ignored', async (t) => {
    const { server, stop } = await startTestServer(TOKEN_ONLY);
    t.after(stop);

    const token = await signTestToken({ sub: 'alice' });
    const client = await TestClient.connect(`${server.url}?token=${encodeURIComponent(token)}`);
    const error = await client.requestError({ type: 'join', room: 'r1' });

    assert.equal(error.code, 'unauthorized');
  });

  test('token-only server, valid token: works', async (t) => {
    const { server, stop } = await startTestServer(TOKEN_ONLY);
    t.after(stop);

    const client = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
    const joined = await client.join('r1');

    assert.equal(client.userId, 'alice');
    assert.equal(joined.type, 'joined');
  });

  test('rebound domain on loopback: 403', async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);
    // A page on a domain re-pointed at 127.0.0.1 sends its own name as both Origin and Host.
    const rebound = `rebind.attacker.example:${server.port}`;

    const status = await upgradeStatus(server.url, { Origin: `http://${rebound}`, Host: rebound });

    assert.equal(status, 403);
  });

  test('localhost origin and host: accepted', async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);
    const local = `localhost:${server.port}`;

    const status = await upgradeStatus(server.url, { Origin: `http://${local}`, Host: local });

    assert.equal(status, 101);
  });

  test('wildcard: any origin accepted', async (t) => {
    const { server, stop } = await startTestServer({ allowedOrigins: ['*'] });
    t.after(stop);

    assert.equal(await upgradeStatus(server.url, { Origin: 'https://attacker.example' }), 101);
  });

  test('default config: foreign origin refused', async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    assert.equal(await upgradeStatus(server.url, { Origin: 'https://attacker.example' }), 403);
    assert.equal(await upgradeStatus(server.url, { Origin: `http://127.0.0.1:${server.port}` }), 101);
  });
});
