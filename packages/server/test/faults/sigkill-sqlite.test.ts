import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { runSigkillScenario } from './support/sigkill-scenario.js';

const TEST_TIMEOUT_MS = 90_000;

describe('SIGKILL on SQLite', { timeout: TEST_TIMEOUT_MS }, () => {
  test('50 senders: acked kept once, in order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-sigkill-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));

    await runSigkillScenario({ storeArgs: ['--database', join(directory, 'confab.db')] });
  });
});
