import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { startWebServer, type WebServer } from './support/web-server.js';

describe('two users chatting', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
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

  test('messages, presence and typing reach the other user', async () => {
    const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const bobContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const alice = await ChatPage.open(aliceContext, web.server.httpUrl);
      await alice.signInAsGuest('alice');
      await alice.joinRoom('lobby');

      const bob = await ChatPage.open(bobContext, web.server.httpUrl);
      await bob.signInAsGuest('bob');
      await bob.joinRoom('lobby');

      await alice.members().filter({ hasText: 'bob' }).waitFor();
      await bob.members().filter({ hasText: 'alice' }).waitFor();
      assert.equal(await alice.members().count(), 2);
      assert.equal(await bob.members().count(), 2);

      await bob.composer('lobby').pressSequentially('hello al');
      await alice.typingLine().filter({ hasText: 'bob is typing…' }).waitFor();

      await bob.composer('lobby').pressSequentially('ice');
      await bob.composer('lobby').press('Enter');
      await alice.deliveredMessage('hello alice').waitFor();
      await bob.deliveredMessage('hello alice').waitFor();
      assert.equal(await bob.composer('lobby').inputValue(), '', 'the composer is cleared after sending');
      await alice.typingLine().filter({ hasText: /^$/ }).waitFor();

      await alice.send('lobby', 'hi bob');
      await bob.deliveredMessage('hi bob').waitFor();

      const ownOnAlice = alice.deliveredMessage('hi bob');
      const otherOnAlice = alice.deliveredMessage('hello alice');
      assert.match((await ownOnAlice.getAttribute('class')) ?? '', /message--own/);
      assert.doesNotMatch((await otherOnAlice.getAttribute('class')) ?? '', /message--own/);
      assert.match(await otherOnAlice.locator('.message__sender').innerText(), /^bob$/);
      assert.match(await ownOnAlice.locator('.message__sender').innerText(), /alice \(you\)/);

      assert.deepEqual(await alice.contents(), ['hello alice', 'hi bob']);
      assert.deepEqual(await bob.contents(), ['hello alice', 'hi bob']);

      await alice.screenshot('chat-desktop-alice');
      await bob.screenshot('chat-desktop-bob');
    } finally {
      await aliceContext.close();
      await bobContext.close();
    }
  });

  test('Shift+Enter adds a line and Enter sends both lines', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const carol = await ChatPage.open(context, web.server.httpUrl);
      await carol.signInAsGuest('carol');
      await carol.joinRoom('multiline');

      const composer = carol.composer('multiline');
      await composer.pressSequentially('first line');
      await composer.press('Shift+Enter');
      await composer.pressSequentially('second line');
      assert.equal(await composer.inputValue(), 'first line\nsecond line');

      await composer.press('Enter');
      await carol.deliveredMessage('first line\nsecond line').waitFor();
      assert.equal(await composer.evaluate((element) => element === document.activeElement), true);
    } finally {
      await context.close();
    }
  });

  test('draft survives a room switch', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const ivan = await ChatPage.open(context, web.server.httpUrl);
      await ivan.signInAsGuest('ivan');
      await ivan.joinRoom('drafts');
      await ivan.composer('drafts').pressSequentially('half a thought');
      await ivan.joinRoom('elsewhere');
      assert.equal(await ivan.page.title(), '#elsewhere · Confab');

      await ivan.page.getByRole('button', { name: '#drafts', exact: true }).click();
      assert.equal(await ivan.composer('drafts').inputValue(), 'half a thought');
      assert.equal(await ivan.composer('drafts').evaluate((element) => element === document.activeElement), true);

      // A long unbroken draft wraps inside the composer instead of widening the page.
      await ivan.composer('drafts').fill(`y${'x'.repeat(3800)}`);
      await ivan.page.getByText('199 left').waitFor();
      const overflowPx = await ivan.page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.equal(overflowPx, 0);
      assert.equal(await ivan.page.getByRole('heading', { name: 'Members' }).isVisible(), true);
      const composerBox = await ivan.composer('drafts').boundingBox();
      assert.ok(composerBox !== null, 'the composer has no layout box');
      assert.ok(composerBox.x + composerBox.width <= 1280, 'the composer ends right of the window');
      await ivan.screenshot('chat-long-draft');
    } finally {
      await context.close();
    }
  });

  test('background rooms count unread messages', async () => {
    const judyContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const kimContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const judy = await ChatPage.open(judyContext, web.server.httpUrl);
      await judy.signInAsGuest('judy');
      await judy.joinRoom('busy');
      await judy.send('busy', 'my own message');
      await judy.deliveredMessage('my own message').waitFor();
      await judy.joinRoom('quiet');

      const kim = await ChatPage.open(kimContext, web.server.httpUrl);
      await kim.signInAsGuest('kim');
      await kim.joinRoom('busy');
      await kim.send('busy', 'first news');
      await kim.send('busy', 'second news');
      await kim.deliveredMessage('second news').waitFor();

      const busyBadge = judy.page.getByRole('listitem').filter({ hasText: '#busy' }).getByTestId('unread-count');
      await busyBadge.filter({ hasText: /^2 unread$/ }).waitFor();
      assert.equal(await judy.page.getByTestId('unread-count').count(), 1, 'only #busy has unread messages');

      await judy.page.getByRole('button', { name: /^#busy/ }).click();
      await judy.deliveredMessage('second news').waitFor();
      assert.equal(await judy.page.getByTestId('unread-count').count(), 0);

      // After a reload the history of a background room counts as read.
      await judy.page.getByRole('button', { name: '#quiet', exact: true }).click();
      await judy.page.reload();
      await judy.page.getByRole('heading', { name: '#quiet' }).waitFor();
      await kim.send('busy', 'third news');
      await busyBadge.filter({ hasText: /^1 unread$/ }).waitFor();
      await judy.screenshot('chat-unread');
    } finally {
      await judyContext.close();
      await kimContext.close();
    }
  });

  test('leaving a room removes the user from its members', async () => {
    const daveContext = await browser.newContext();
    const erinContext = await browser.newContext();
    try {
      const dave = await ChatPage.open(daveContext, web.server.httpUrl);
      await dave.signInAsGuest('dave');
      await dave.joinRoom('corner');
      await dave.joinRoom('side');

      const erin = await ChatPage.open(erinContext, web.server.httpUrl);
      await erin.signInAsGuest('erin');
      await erin.joinRoom('corner');
      await erin.members().filter({ hasText: 'dave' }).waitFor();

      await dave.page.getByRole('button', { name: 'Leave #corner' }).click();
      await erin.members().filter({ hasText: 'dave' }).waitFor({ state: 'detached' });
      assert.equal(await dave.page.getByRole('button', { name: 'Leave #corner' }).count(), 0);
      assert.equal(await dave.page.getByRole('heading', { name: '#side' }).count(), 1);
      await dave.page.waitForFunction(() => document.activeElement?.id === 'composer-side');

      await dave.page.getByRole('button', { name: 'Leave #side' }).click();
      await dave.page.getByRole('heading', { name: 'No room open' }).waitFor();
      await dave.page.waitForFunction(() => document.activeElement?.id === 'join-room');
    } finally {
      await daveContext.close();
      await erinContext.close();
    }
  });

  test('next user after sign-out: messages not own', async () => {
    const context = await browser.newContext();
    try {
      const page = await ChatPage.open(context, web.server.httpUrl);
      await page.signInAsGuest('bob');
      await page.joinRoom('shared-desk');
      await page.send('shared-desk', 'written by bob');
      await page.deliveredMessage('written by bob').waitFor();
      const bobId = await page.page.evaluate(() => window.localStorage.getItem('confab.web.guest-key.v1'));

      await page.page.getByRole('button', { name: 'Sign out' }).click();
      await page.signInAsGuest('carol');
      await page.joinRoom('shared-desk');
      const message = page.deliveredMessage('written by bob');
      await message.waitFor();
      const carolId = await page.page.evaluate(() => window.localStorage.getItem('confab.web.guest-key.v1'));

      assert.notEqual(carolId, bobId, 'sign-out forgets the guest key');
      assert.doesNotMatch((await message.getAttribute('class')) ?? '', /message--own/);
      assert.doesNotMatch(await message.locator('.message__sender').innerText(), /\(you\)/);
    } finally {
      await context.close();
    }
  });
});
