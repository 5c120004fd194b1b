import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import type { Browser } from 'playwright-core';

import { ChatPage } from './support/chat-page.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { startWebServer, type WebServer } from './support/web-server.js';

const SOURCE_DIR = fileURLToPath(new URL('../src/', import.meta.url));

test('UI source never injects raw HTML', async () => {
  const files = (await readdir(SOURCE_DIR, { recursive: true })).filter((file) => /\.tsx?$/.test(file));
  assert.ok(files.length > 0);
  for (const file of files) {
    const source = await readFile(join(SOURCE_DIR, file), 'utf8');
    assert.doesNotMatch(source, /dangerouslySetInnerHTML|\.innerHTML|\.outerHTML|insertAdjacentHTML/, file);
  }
});

describe('markup in messages', { skip: chromiumSkipReason(), timeout: 120_000 }, () => {
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

  test('HTML in messages and names shows as text', async () => {
    const malloryContext = await browser.newContext();
    const victorContext = await browser.newContext();
    const dialogs: string[] = [];
    try {
      const victor = await ChatPage.open(victorContext, web.server.httpUrl);
      victor.page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await victor.signInAsGuest('victor');
      await victor.joinRoom('markup');

      const mallory = await ChatPage.open(malloryContext, web.server.httpUrl);
      await mallory.signInAsGuest('<i>mallory</i>');
      await mallory.joinRoom('markup');

      const payloads = ['<img src=x onerror=alert(1)>', '<b>bold</b> &amp; <script>alert(2)</script>'];
      for (const payload of payloads) {
        await mallory.send('markup', payload);
        await victor.deliveredMessage(payload).waitFor();
      }

      assert.deepEqual(await victor.contents(), payloads);
      const list = victor.page.getByTestId('message-list');
      assert.equal(await list.locator('img, b, script').count(), 0);
      assert.equal(await victor.members().filter({ hasText: '<i>mallory</i>' }).count(), 1);
      assert.equal(await victor.page.locator('[data-testid="members"] i').count(), 0);
      assert.equal(
        await victor.page.locator('.message__sender', { hasText: '<i>mallory</i>' }).count(),
        payloads.length,
      );
      assert.deepEqual(dialogs, []);
      await victor.screenshot('html-as-text');
    } finally {
      await malloryContext.close();
      await victorContext.close();
    }
  });
});
