import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCompositeSyncResponse, parseCustomizeResponse, parseDecoratorSyncResponse } from './hook-response.ts';

const child = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };

test('composite: the four v2 fields are accepted, null and absent mean zero values', () => {
  const full = parseCompositeSyncResponse({ status: { a: 1 }, children: [child], resyncAfterSeconds: 2.5, finalized: false });
  assert.deepEqual(full, { ok: true, value: { status: { a: 1 }, children: [child], resyncAfterSeconds: 2.5, finalized: false } });
  assert.deepEqual(parseCompositeSyncResponse({}), { ok: true, value: { status: null, children: [], resyncAfterSeconds: 0, finalized: false } });
  assert.deepEqual(parseCompositeSyncResponse({ children: null, status: null }), { ok: true, value: { status: null, children: [], resyncAfterSeconds: 0, finalized: false } });
});

test('composite: unknown or differently cased fields fail the sync', () => {
  for (const body of [{ status: {}, extra: 1 }, { Status: {} }, { children: [], labels: {} }]) {
    const parsed = parseCompositeSyncResponse(body);
    assert.equal(parsed.ok, false, JSON.stringify(body));
  }
});

test('composite: wrong types fail the sync', () => {
  for (const body of [[], 'x', { status: [] }, { children: {} }, { resyncAfterSeconds: '5' }, { finalized: 'yes' }, { children: [{ apiVersion: 'v1', metadata: { name: 'x' } }] }, { children: [{ apiVersion: 'v1', kind: 'ConfigMap' }] }, { children: [null] }]) {
    assert.equal(parseCompositeSyncResponse(body).ok, false, JSON.stringify(body));
  }
});

test('decorator: labels/annotations accept strings and null, attachments are objects', () => {
  const parsed = parseDecoratorSyncResponse({ labels: { a: 'x', b: null }, annotations: {}, status: null, attachments: [child], resyncAfterSeconds: 1 });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.labels, { a: 'x', b: null });
  assert.equal(parseDecoratorSyncResponse({ labels: { a: 1 } }).ok, false);
  assert.equal(parseDecoratorSyncResponse({ children: [] }).ok, false);
});

test('customize: rules are parsed strictly, including selectors', () => {
  const parsed = parseCustomizeResponse({ relatedResources: [{ apiVersion: 'v1', resource: 'namespaces', names: ['a'] }, { apiVersion: 'v1', resource: 'configmaps', namespace: 'n', labelSelector: { matchLabels: { k: 'v' } } }] });
  assert.deepEqual(parsed, {
    ok: true,
    value: {
      relatedResources: [
        { apiVersion: 'v1', resource: 'namespaces', names: ['a'] },
        { apiVersion: 'v1', resource: 'configmaps', namespace: 'n', labelSelector: { matchLabels: { k: 'v' } } },
      ],
    },
  });
  assert.equal(parseCustomizeResponse({ relatedResources: [{ apiVersion: 'v1', resource: 'x', nmes: [] }] }).ok, false);
  assert.equal(parseCustomizeResponse({ relatedResources: [{ apiVersion: 'v1', resource: 'x', labelSelector: { matchLabel: {} } }] }).ok, false);
  assert.equal(parseCustomizeResponse({ related: [] }).ok, false);
});
