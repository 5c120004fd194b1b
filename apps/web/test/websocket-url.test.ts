import assert from 'node:assert/strict';
import { test } from 'node:test';

import { websocketUrl } from '../src/websocket-url.js';

test('websocketUrl follows the page origin', () => {
  assert.equal(websocketUrl({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/ws');
  assert.equal(websocketUrl({ protocol: 'https:', host: 'chat.example.org' }), 'wss://chat.example.org/ws');
  assert.equal(websocketUrl({ protocol: 'http:', host: '[::1]:9000' }), 'ws://[::1]:9000/ws');
});
