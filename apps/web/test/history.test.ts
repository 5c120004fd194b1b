import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { seedMessages } from './support/seed-messages.js';
import { startWebServer, type WebServer } from './support/web-server.js';

const SEEDED_MESSAGE_COUNT = 130;

describe('history in the browser', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
  let web: WebServer;
  let browser: Browser;

  before(async () => {
    // The seeding client sends faster than the default rate limit allows.
    web = await startWebServer({ sendRatePerSecond: 1000, sendBurst: 1000 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await web?.stop();
  });

  test('a reload rejoins the rooms and shows history', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const alice = await ChatPage.open(context, web.server.httpUrl);
      await alice.signInAsGuest('alice');
      await alice.joinRoom('notes');
      await alice.send('notes', 'first note');
      await alice.send('notes', 'second note');
      await alice.deliveredMessage('second note').waitFor();
      await alice.joinRoom('other');
      await alice.page.getByRole('button', { name: '#notes', exact: true }).click();
      await alice.page.getByRole('heading', { name: '#notes' }).waitFor();

      await alice.page.reload();

      await alice.page.getByTestId('signed-in-user').filter({ hasText: 'alice' }).waitFor();
      await alice.page.getByRole('heading', { name: '#notes' }).waitFor();
      await alice.deliveredMessage('second note').waitFor();
      assert.deepEqual(await alice.contents(), ['first note', 'second note']);
      assert.equal(await alice.page.getByRole('button', { name: '#other', exact: true }).count(), 1);

      // The guest has a new user id after the reload, but the browser still marks its own messages.
      assert.match((await alice.deliveredMessage('first note').getAttribute('class')) ?? '', /message--own/);
      await alice.screenshot('history-after-reload');
    } finally {
      await context.close();
    }
  });

  test('scrolling to the top loads older messages in place', async () => {
    const seeded = Array.from({ length: SEEDED_MESSAGE_COUNT }, (_, index) => `message ${index + 1}`);
    await seedMessages(web.server.url, 'archive', seeded);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const reader = await ChatPage.open(context, web.server.httpUrl);
      await reader.signInAsGuest('reader');
      await reader.joinRoom('archive');
      await reader.deliveredMessage(`message ${SEEDED_MESSAGE_COUNT}`).waitFor();

      const list = reader.page.getByTestId('message-list');
      const firstLoaded = (await reader.contents())[0];
      assert.ok(firstLoaded !== undefined);
      assert.notEqual(firstLoaded, 'message 1', 'the first page holds only the newest messages');

      const countBefore = await reader.messages().count();
      // Scroll to the top and read the oldest message's position in the same task, before the
      // scroll event can start loading the previous page.
      const topBefore = await list.evaluate((element, text) => {
        element.scrollTop = 0;
        const items = [...element.querySelectorAll('[data-testid="message"]')];
        const item = items.find((candidate) => candidate.querySelector('.message__content')?.textContent === text);
        return item?.getBoundingClientRect().top;
      }, firstLoaded);
      const anchor = reader.deliveredMessage(firstLoaded);
      await reader.page.waitForFunction(
        (count) => document.querySelectorAll('[data-testid="message"]').length > count,
        countBefore,
      );
      // Let the layout effect that restores the position run before measuring.
      await reader.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
      const topAfter = (await anchor.boundingBox())?.y;
      assert.ok(topBefore !== undefined, 'the oldest loaded message was not found before loading');
      assert.ok(topAfter !== undefined, 'the oldest loaded message was not found after loading');
      assert.ok(
        Math.abs(topAfter - topBefore) < 2,
        `the message at the top moved from y=${topBefore} to y=${topAfter} when older ones loaded`,
      );
      await reader.screenshot('history-older-loaded');

      for (let page = 0; page < 5 && !(await reader.page.getByText('This is the start of #archive.').isVisible()); page++) {
        const count = await reader.messages().count();
        await list.evaluate((element) => {
          element.scrollTop = 0;
        });
        await reader.page.waitForFunction(
          (known) =>
            document.querySelectorAll('[data-testid="message"]').length > known ||
            document.body.innerText.includes('This is the start of #archive.'),
          count,
        );
      }

      assert.deepEqual(await reader.contents(), seeded);

      // A message arriving while the reader is scrolled up does not move the list, and a button leads to it.
      const scrollTopBefore = await list.evaluate((element) => element.scrollTop);
      await seedMessages(web.server.url, 'archive', ['a late message']);
      const jump = reader.page.getByRole('button', { name: 'New messages ↓' });
      await jump.waitFor();
      assert.equal(await list.evaluate((element) => element.scrollTop), scrollTopBefore);
      await jump.click();
      await jump.waitFor({ state: 'detached' });
      const lateBox = await reader.deliveredMessage('a late message').boundingBox();
      const listBox = await list.boundingBox();
      assert.ok(lateBox !== null, 'the late message has no layout box');
      assert.ok(listBox !== null, 'the message list has no layout box');
      assert.ok(lateBox.y + lateBox.height <= listBox.y + listBox.height + 1, 'the late message is below the visible list');
    } finally {
      await context.close();
    }
  });
});
