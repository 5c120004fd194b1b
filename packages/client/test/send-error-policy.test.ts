import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ERROR_CODES } from '@confab/protocol';

import { CLIENT_ERROR_CODES, type ConfabErrorCode } from '../src/confab-error.js';
import { classifySendError, type SendErrorAction } from '../src/send-error-policy.js';

describe('classifySendError', () => {
  test('every code has an action', () => {
    const expected: Record<ConfabErrorCode, SendErrorAction> = {
      invalid_frame: 'fail',
      unknown_type: 'fail',
      invalid_field: 'fail',
      unauthorized: 'fail',
      token_expired: 'fail',
      guests_disabled: 'fail',
      already_authenticated: 'fail',
      forbidden: 'fail',
      not_joined: 'rejoin',
      too_large: 'fail',
      rate_limited: 'retry_after',
      too_many_rooms: 'fail',
      too_many_connections: 'fail',
      unavailable: 'backoff',
      internal: 'backoff',
      timeout: 'backoff',
      disconnected: 'requeue',
      closed: 'fail',
      sequence_gap: 'fail',
      token_unavailable: 'fail',
    };
    const allCodes = [...Object.keys(ERROR_CODES), ...Object.keys(CLIENT_ERROR_CODES)] as ConfabErrorCode[];
    assert.deepEqual(new Set(Object.keys(expected)), new Set(allCodes), 'table covers the catalogs');
    for (const code of allCodes) {
      assert.equal(classifySendError(code), expected[code], code);
    }
  });
});
