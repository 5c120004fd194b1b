import { describe, test } from 'node:test';

import { clusterSkipReason, dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from '../support/cluster-backends.js';
import { runSigkillScenario } from './support/sigkill-scenario.js';

const TEST_TIMEOUT_MS = 90_000;
const skip = await clusterSkipReason({ postgres: true });

describe('SIGKILL on PostgreSQL', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('50 senders: acked kept once, in order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const schema = uniqueSchemaName();
    t.after(() => dropSchema(schema));

    await runSigkillScenario({ storeArgs: ['--database-url', TEST_DATABASE_URL, '--database-schema', schema] });
  });
});
