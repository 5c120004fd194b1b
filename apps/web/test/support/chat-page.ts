import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { BrowserContext, Locator, Page } from 'playwright-core';

/** Where browser tests save screenshots (git-ignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

/** How long a UI expectation waits before failing, in milliseconds. */
export const UI_TIMEOUT_MS = 10_000;

/** Drives the Confab UI in one page the way a user does: by labels, roles and the keyboard. */
export class ChatPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  }

  /** Opens a new page of the context at the server's root. */
  static async open(context: BrowserContext, baseUrl: string): Promise<ChatPage> {
    const page = await context.newPage();
    const chat = new ChatPage(page);
    await page.goto(baseUrl);
    return chat;
  }

  async signInAsGuest(name: string): Promise<void> {
    await this.page.getByLabel('Display name').fill(name);
    await this.page.getByLabel('Display name').press('Enter');
    await this.page.getByTestId('signed-in-user').filter({ hasText: name }).waitFor();
  }

  /** Signs in with a JWT and waits for the header to show `name`. */
  async signInWithToken(token: string, name: string): Promise<void> {
    await this.page.getByLabel('Token', { exact: true }).check();
    await this.page.getByLabel('Token (JWT)').fill(token);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.page.getByTestId('signed-in-user').filter({ hasText: name }).waitFor();
  }

  /** Joins a room through the room list and waits for its composer. */
  async joinRoom(room: string): Promise<void> {
    // At phone widths the room list is a panel behind a toggle.
    if (!(await this.page.getByRole('navigation', { name: 'Rooms' }).isVisible())) {
      await this.page.locator('.chat__rooms-toggle').click();
    }
    await this.page.getByLabel('Room name').fill(room);
    await this.page.getByLabel('Room name').press('Enter');
    await this.composer(room).waitFor();
  }

  composer(room: string): Locator {
    return this.page.getByLabel(`Message #${room}`);
  }

  /** Types a message into the open room's composer and presses Enter. */
  async send(room: string, text: string): Promise<void> {
    const composer = this.composer(room);
    await composer.fill(text);
    await composer.press('Enter');
  }

  messages(): Locator {
    return this.page.getByTestId('message');
  }

  /** Returns the delivered message whose content is exactly `text`. */
  deliveredMessage(text: string): Locator {
    return this.page
      .locator('[data-testid="message"][data-status="delivered"]')
      .filter({ has: this.page.locator('.message__content', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) });
  }

  async contents(): Promise<string[]> {
    return this.page.locator('[data-testid="message"] .message__content').allTextContents();
  }

  members(): Locator {
    return this.page.getByTestId('member');
  }

  typingLine(): Locator {
    return this.page.getByTestId('typing-line');
  }

  async screenshot(name: string): Promise<string> {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const path = `${ARTIFACTS_DIR}${name}.png`;
    await this.page.screenshot({ path });
    return path;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
