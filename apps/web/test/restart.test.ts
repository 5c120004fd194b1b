import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { startWebServer, type WebServer } from './support/web-server.js';

/** How long the pages may take to reconnect, covering the client's backoff delays. */
const RECONNECT_TIMEOUT_MS = 40_000;

describe('server restart', { skip: chromiumSkipReason(), timeout: 150_000 }, () => {
  let web: WebServer;
  let browser: Browser;

  before(async () => {
    web = await startWebServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.stop();
  });

  test('a message sent during a restart is delivered once', async () => {
    const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const bobContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const alice = await ChatPage.open(aliceContext, web.server.httpUrl);
      await alice.signInAsGuest('alice');
      await alice.joinRoom('ops');
      const bob = await ChatPage.open(bobContext, web.server.httpUrl);
      await bob.signInAsGuest('bob');
      await bob.joinRoom('ops');
      await alice.send('ops', 'before the restart');
      await bob.deliveredMessage('before the restart').waitFor();

      await web.close();
      await alice.page.getByTestId('connection-banner').filter({ hasText: 'Reconnecting' }).waitFor();
      await bob.page.getByTestId('connection-banner').filter({ hasText: 'Reconnecting' }).waitFor();

      const composer = alice.composer('ops');
      await composer.pressSequentially('typed while the server was down');
      await composer.press('Enter');
      const pending = alice.page
        .locator('[data-testid="message"][data-status="pending"]')
        .filter({ hasText: 'typed while the server was down' });
      await pending.waitFor();
      await alice.screenshot('restart-pending');

      await web.reopen();

      await alice.deliveredMessage('typed while the server was down').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
      await bob.deliveredMessage('typed while the server was down').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
      await alice.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: RECONNECT_TIMEOUT_MS });
      await alice.send('ops', 'after the restart');
      await bob.deliveredMessage('after the restart').waitFor();

      const expected = ['before the restart', 'typed while the server was down', 'after the restart'];
      assert.deepEqual(await alice.contents(), expected);
      assert.deepEqual(await bob.contents(), expected);

      // The server's log agrees: a fresh page loads the same three messages from history.
      await bob.page.reload();
      await bob.deliveredMessage('after the restart').waitFor();
      assert.deepEqual(await bob.contents(), expected);
      await alice.screenshot('restart-delivered');
    } finally {
      await aliceContext.close();
      await bobContext.close();
    }
  });
});
