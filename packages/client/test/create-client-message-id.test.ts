import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLIENT_MESSAGE_ID_PATTERN } from '@confab/protocol';

import { createClientMessageId } from '../src/create-client-message-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createClientMessageId', () => {
  test('returns distinct v4 UUIDs', () => {
    const ids = Array.from({ length: 100 }, () => createClientMessageId());
    assert.equal(new Set(ids).size, 100);
    for (const id of ids) {
      assert.match(id, UUID_V4);
      assert.match(id, CLIENT_MESSAGE_ID_PATTERN);
    }
  });

  test('works without randomUUID', () => {
    // An insecure browser context has getRandomValues but no randomUUID.
    const original = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(crypto), 'randomUUID');
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      assert.equal(typeof crypto.randomUUID, 'undefined');
      const ids = Array.from({ length: 100 }, () => createClientMessageId());
      assert.equal(new Set(ids).size, 100);
      for (const id of ids) {
        assert.match(id, UUID_V4);
      }
    } finally {
      delete (crypto as { randomUUID?: unknown }).randomUUID;
      assert.equal(typeof crypto.randomUUID, 'function', 'restored');
      assert.ok(original !== undefined);
    }
  });
});
