import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { signToken } from './support/sign-token.js';
import { startWebServer, type WebServer } from './support/web-server.js';

const JWT_SECRET = 'web-presence-test-secret-0123456789abcdef';

describe('presence with token sign-in', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
  let web: WebServer;
  let browser: Browser;

  before(async () => {
    web = await startWebServer({ jwtSecret: JWT_SECRET, allowGuests: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.stop();
  });

  test('a user with two tabs is one member with two devices', async () => {
    const frankContext = await browser.newContext();
    const ginaContext = await browser.newContext();
    const token = signToken(JWT_SECRET, { sub: 'user-frank', name: 'frank' });
    try {
      const gina = await ChatPage.open(ginaContext, web.server.httpUrl);
      await gina.signInAsGuest('gina');
      await gina.joinRoom('team');

      const firstTab = await ChatPage.open(frankContext, web.server.httpUrl);
      await firstTab.signInWithToken(token, 'frank');
      await firstTab.joinRoom('team');
      await gina.members().filter({ hasText: 'frank' }).getByText('1 device').waitFor();

      // sessionStorage, which contains the token, is per tab, so the second tab signs in again.
      const secondTab = await ChatPage.open(frankContext, web.server.httpUrl);
      await secondTab.signInWithToken(token, 'frank');
      await secondTab.page.getByRole('heading', { name: '#team' }).waitFor();

      const frankOnSecondTab = secondTab.members().filter({ hasText: 'frank' });
      await frankOnSecondTab.getByText('2 devices').waitFor();
      assert.match(await frankOnSecondTab.innerText(), /\(you\)/);

      // NOTE: presence frames go out only when a user's first connection joins or last one leaves,
      // so gina's list learns the new device count when she next joins the room, here by reloading.
      await gina.page.reload();
      await gina.members().filter({ hasText: 'frank' }).getByText('2 devices').waitFor();
      assert.equal(await gina.members().count(), 2);

      // frank is still in the room through the first tab, so only signing that one out removes him.
      await secondTab.page.close();
      await firstTab.page.getByRole('button', { name: 'Sign out' }).click();
      await gina.members().filter({ hasText: 'frank' }).waitFor({ state: 'detached' });
      await firstTab.page.getByLabel('Display name').waitFor();
    } finally {
      await frankContext.close();
      await ginaContext.close();
    }
  });

  test('a rejected token shows the sign-in form with the reason', async () => {
    const context = await browser.newContext();
    try {
      const page = await ChatPage.open(context, web.server.httpUrl);
      await page.page.getByLabel('Token', { exact: true }).check();
      await page.page.getByLabel('Token (JWT)').fill(signToken('some-other-secret-0123456789abcdef', { sub: 'x', name: 'x' }));
      await page.page.getByRole('button', { name: 'Sign in' }).click();

      const alert = page.page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /token/i);
      assert.equal(await page.page.getByLabel('Token (JWT)').isVisible(), true);
    } finally {
      await context.close();
    }
  });

  test('a room outside the token rooms claim shows why', async () => {
    const context = await browser.newContext();
    const token = signToken(JWT_SECRET, { sub: 'user-hana', name: 'hana', rooms: ['team'] });
    try {
      const hana = await ChatPage.open(context, web.server.httpUrl);
      await hana.signInWithToken(token, 'hana');
      await hana.page.getByLabel('Room name').fill('secret');
      await hana.page.getByLabel('Room name').press('Enter');

      const alert = hana.page.getByRole('alert').filter({ hasText: 'Could not join #secret' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /do not have access/);
      assert.equal(await hana.composer('secret').count(), 0);

      await hana.joinRoom('team');
      await hana.send('team', 'allowed here');
      await hana.deliveredMessage('allowed here').waitFor();
    } finally {
      await context.close();
    }
  });
});
