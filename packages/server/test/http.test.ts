import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { startTestServer } from './support/test-server.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5000;
const SECRET_MARKER = 'secret-outside-the-web-root';
const INDEX_MARKER = '<title>Confab test index</title>';

interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a request with `path` exactly as given: node:http does not normalize dot segments or
 * percent escapes, unlike fetch, so traversal attempts reach the server unchanged.
 */
function get(httpUrl: string, path: string, method = 'GET'): Promise<HttpReply> {
  const { hostname, port } = new URL(httpUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, path, method, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * Builds `<tmp>/site/web` as the web root, with secrets beside it in `<tmp>/site` that a
 * traversal would reach.
 */
function makeSite(): { site: string; webRoot: string } {
  const site = mkdtempSync(join(tmpdir(), 'confab-web-'));
  const webRoot = join(site, 'web');
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), `<!doctype html>${INDEX_MARKER}`);
  writeFileSync(join(webRoot, 'app.js'), 'console.log("app");');
  writeFileSync(join(webRoot, 'assets', 'main-1a2b3c.js'), 'console.log("asset");');
  writeFileSync(join(site, 'package.json'), JSON.stringify({ name: SECRET_MARKER }));
  writeFileSync(join(site, 'SECRET'), SECRET_MARKER);
  mkdirSync(join(site, 'web-secret'));
  writeFileSync(join(site, 'web-secret', 'a.txt'), SECRET_MARKER);
  return { site, webRoot };
}

describe('http', () => {
  test('/healthz: 200', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const reply = await get(server.httpUrl, '/healthz');

    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { status: 'ok' });
  });

  test('/readyz: 200', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const reply = await get(server.httpUrl, '/readyz');

    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { status: 'ready' });
  });

  test('no web root: landing page, 404 elsewhere', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const root = await get(server.httpUrl, '/');
    const unknown = await get(server.httpUrl, '/no/such/page');
    const unknownFile = await get(server.httpUrl, '/favicon.ico');

    assert.equal(root.status, 200);
    assert.match(root.body, /ws:\/\/127\.0\.0\.1:\d+\/ws/);
    assert.equal(unknown.status, 404);
    assert.equal(unknownFile.status, 404);
  });

  test('/ws without upgrade: 426', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const reply = await get(server.httpUrl, '/ws');

    assert.equal(reply.status, 426);
  });

  test('POST to a page: 405', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const reply = await get(server.httpUrl, '/', 'POST');

    assert.equal(reply.status, 405);
  });

  test('web root: files served', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { site, webRoot } = makeSite();
    const { server, stop } = await startTestServer({ webRoot });
    t.after(async () => {
      await stop();
      rmSync(site, { recursive: true, force: true });
    });

    const index = await get(server.httpUrl, '/');
    const script = await get(server.httpUrl, '/app.js');
    const asset = await get(server.httpUrl, '/assets/main-1a2b3c.js');
    const head = await get(server.httpUrl, '/app.js', 'HEAD');

    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.ok(index.body.includes(INDEX_MARKER));
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.equal(script.body, 'console.log("app");');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  test('web root: index.html fallback', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { site, webRoot } = makeSite();
    const { server, stop } = await startTestServer({ webRoot });
    t.after(async () => {
      await stop();
      rmSync(site, { recursive: true, force: true });
    });

    const route = await get(server.httpUrl, '/rooms/lobby');
    const missingFile = await get(server.httpUrl, '/missing.js');
    const missingAsset = await get(server.httpUrl, '/assets/gone-000.css');

    assert.equal(route.status, 200);
    assert.ok(route.body.includes(INDEX_MARKER));
    assert.equal(missingFile.status, 404);
    assert.equal(missingAsset.status, 404);
  });

  test('web root: no path traversal', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { site, webRoot } = makeSite();
    const { server, stop } = await startTestServer({ webRoot });
    t.after(async () => {
      await stop();
      rmSync(site, { recursive: true, force: true });
    });

    const fileTargets = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/..%2fpackage.json',
      '/..%2Fpackage.json',
      '/%2e%2e%2fpackage.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/..%5cpackage.json',
      '/%252e%252e%252fpackage.json',
      '/../web-secret/a.txt',
      '/..%2fweb-secret%2fa.txt',
      '/%2e%2e%2fweb-secret%2fa.txt',
    ];
    for (const path of fileTargets) {
      const reply = await get(server.httpUrl, path);
      assert.equal(reply.status, 404, path);
      assert.ok(!reply.body.includes(SECRET_MARKER), `${path} leaks nothing`);
    }

    // Paths without an extension may fall back to index.html, but never to the file outside.
    for (const path of ['/../SECRET', '/..%2fSECRET', '/%2e%2e%2fSECRET', '/assets/..%2f..%2fSECRET']) {
      const reply = await get(server.httpUrl, path);
      assert.ok(!reply.body.includes(SECRET_MARKER), `${path} leaks nothing`);
    }
  });
});
