import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { startWebServer, type WebServer } from './support/web-server.js';

const PHONE_VIEWPORT = { width: 390, height: 844 };

async function horizontalOverflowPx(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

describe('phone-width layout', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
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

  test('the chat fits a 390 px wide screen', async () => {
    const phoneContext = await browser.newContext({ viewport: PHONE_VIEWPORT, isMobile: true, hasTouch: true });
    const deskContext = await browser.newContext();
    try {
      const phone = await ChatPage.open(phoneContext, web.server.httpUrl);
      await phone.screenshot('phone-sign-in');
      assert.equal(await horizontalOverflowPx(phone.page), 0, 'sign-in screen overflows horizontally');

      await phone.signInAsGuest('pat');
      // With no room open, the room list opens by itself so the join form is in reach.
      await phone.page.getByRole('navigation', { name: 'Rooms' }).waitFor();
      await phone.screenshot('phone-no-room');
      await phone.joinRoom('mobile');

      // The sidebars are folded away behind their toggles.
      assert.equal(await phone.page.getByRole('navigation', { name: 'Rooms' }).isVisible(), false);
      assert.equal(await phone.page.getByRole('heading', { name: 'Members' }).isVisible(), false);
      assert.equal(await phone.composer('mobile').isVisible(), true);

      const desk = await ChatPage.open(deskContext, web.server.httpUrl);
      await desk.signInAsGuest('desk');
      await desk.joinRoom('mobile');
      await desk.send('mobile', 'Hello from a desktop, with a long line that has to wrap on a narrow phone screen.');
      await desk.send('mobile', `unbroken-${'x'.repeat(180)}`);
      await phone.deliveredMessage(`unbroken-${'x'.repeat(180)}`).waitFor();
      await phone.send('mobile', 'hi from my phone');
      await phone.deliveredMessage('hi from my phone').waitFor();

      assert.equal(await horizontalOverflowPx(phone.page), 0, 'chat screen overflows horizontally');
      await phone.composer('mobile').fill('z'.repeat(600));
      assert.equal(await horizontalOverflowPx(phone.page), 0, 'a long draft widens the page');
      await phone.composer('mobile').fill('');
      const composerBox = await phone.composer('mobile').boundingBox();
      assert.ok(composerBox !== null, 'the composer has no layout box');
      assert.ok(composerBox.y + composerBox.height <= PHONE_VIEWPORT.height, 'the composer ends below the screen');
      assert.ok(composerBox.x >= 0, 'the composer starts left of the screen');
      assert.ok(composerBox.x + composerBox.width <= PHONE_VIEWPORT.width, 'the composer ends right of the screen');
      await phone.screenshot('phone-chat');

      const membersToggle = phone.page.getByRole('button', { name: /Members/ });
      await membersToggle.click();
      await phone.members().filter({ hasText: 'desk' }).waitFor();
      await phone.screenshot('phone-members-open');
      await phone.page.keyboard.press('Escape');
      await phone.members().first().waitFor({ state: 'hidden' });
      assert.equal(await membersToggle.evaluate((element) => element === document.activeElement), true);

      await phone.page.locator('.chat__rooms-toggle').click();
      await phone.page.getByRole('navigation', { name: 'Rooms' }).waitFor();
      await phone.screenshot('phone-rooms-open');
      await phone.page.getByLabel('Room name').fill('second');
      await phone.page.getByLabel('Room name').press('Enter');
      await phone.page.getByRole('heading', { name: '#second' }).waitFor();
      assert.equal(await phone.page.getByRole('navigation', { name: 'Rooms' }).isVisible(), false);
      assert.equal(await horizontalOverflowPx(phone.page), 0);
    } finally {
      await phoneContext.close();
      await deskContext.close();
    }
  });
});
