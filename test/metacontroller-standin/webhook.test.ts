import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration, parseRetryAfter, webhookTimeoutMs, webhookUrl } from './webhook.ts';

test('url wins over service; service and path build an in-cluster URL', () => {
  assert.equal(webhookUrl({ url: 'http://127.0.0.1:1/x', service: { name: 's', namespace: 'n' }, path: '/y' }), 'http://127.0.0.1:1/x');
  assert.equal(webhookUrl({ service: { name: 's', namespace: 'n' }, path: '/sync' }), 'http://s.n:80/sync');
  assert.equal(webhookUrl({ service: { name: 's', namespace: 'n', port: 8443, protocol: 'https' }, path: '/sync' }), 'https://s.n:8443/sync');
  assert.throws(() => webhookUrl({ service: { name: 's', namespace: 'n' } }));
  assert.throws(() => webhookUrl({ service: { name: 's' }, path: '/x' }));
});

test('Go durations and the 10 s default', () => {
  assert.equal(parseGoDuration('30s'), 30_000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.throws(() => parseGoDuration('30'));
  assert.equal(webhookTimeoutMs({}), 10_000);
  assert.equal(webhookTimeoutMs({ timeout: '2s' }), 2000);
  assert.equal(webhookTimeoutMs({ timeout: '0s' }), 10_000);
  assert.equal(webhookTimeoutMs({ timeout: 'soon' }), 10_000);
});

test('Retry-After: seconds, HTTP date, or 0', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now), 3);
  assert.equal(parseRetryAfter(null, now), 0);
  assert.equal(parseRetryAfter('soon', now), 0);
});
