import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, which `.ci/install-chromium.sh` installs. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

// Without the background-networking flags, Chromium keeps connecting to Google's hosts, which the
// sandbox's network rejects. Running as root needs --no-sandbox.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Returns the reason to skip the browser tests, or false to run them. Outside CI, a missing
 * Chromium skips them with this message. Under CI=true they run and fail at launch, because a CI
 * run that silently skipped its browser tests would pass without testing the UI.
 */
export function chromiumSkipReason(): string | false {
  if (existsSync(CHROMIUM_PATH) || process.env['CI'] === 'true') {
    return false;
  }
  return `Chromium not found at ${CHROMIUM_PATH}; run .ci/install-chromium.sh to run the browser tests`;
}

/**
 * Launches headless Chromium. Playwright gives every launch a new temporary user data directory,
 * so no state is shared between test files or runs.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}; run .ci/install-chromium.sh first`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
