import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAST_APPLIED_ANNOTATION, applyUpdate, canonicalJson, createMergePatch, deepEqual, threeWayMerge } from './apply-merge.ts';
import type { KubeObject } from './kube-types.ts';

test('merge patch: changed and added keys, null for removed keys, arrays replaced', () => {
  assert.deepEqual(createMergePatch({ a: 1, b: { c: 1, d: 2 }, e: [1, 2] }, { a: 1, b: { c: 2 }, e: [1], f: 'new' }), { b: { c: 2, d: null }, e: [1], f: 'new' });
  assert.deepEqual(createMergePatch({ a: { b: 1 } }, { a: { b: 1 } }), {});
});

test('three-way merge removes what was applied before and keeps what others set', () => {
  const observed = { data: { mine: 'old', dropped: 'x', theirs: 'keep' } };
  const lastApplied = { data: { mine: 'old', dropped: 'x' } };
  assert.deepEqual(threeWayMerge(observed, lastApplied, { data: { mine: 'new' } }), { data: { mine: 'new', theirs: 'keep' } });
});

test('list maps merge by a guessed key: a controller ownerReference added later survives', () => {
  const nsRef = { apiVersion: 'v1', kind: 'Namespace', name: 'ns', uid: 'u-ns' };
  const ctrlRef = { apiVersion: 'x/v1', kind: 'P', name: 'p', uid: 'u-p', controller: true, blockOwnerDeletion: true };
  const merged = threeWayMerge({ metadata: { ownerReferences: [nsRef, ctrlRef] } }, { metadata: { ownerReferences: [nsRef] } }, { metadata: { ownerReferences: [nsRef] } });
  assert.deepEqual(merged, { metadata: { ownerReferences: [nsRef, ctrlRef] } });
});

test('applyUpdate is a no-op for an unchanged desired object, even with server-set fields', () => {
  const desired: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n', labels: { a: 'b' } }, data: { k: 'v' } };
  const observed: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'n', labels: { a: 'b' }, uid: 'u', resourceVersion: '5', creationTimestamp: 't', managedFields: [], annotations: { [LAST_APPLIED_ANNOTATION]: canonicalJson(desired) } },
    data: { k: 'v' },
  };
  assert.ok(deepEqual(applyUpdate(observed, desired), observed));
  const changed = applyUpdate(observed, { ...desired, data: { k: 'w' } });
  assert.deepEqual(changed['data'], { k: 'w' });
  assert.equal(changed.metadata?.resourceVersion, '5');
  assert.equal(changed.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], canonicalJson({ ...desired, data: { k: 'w' } }));
});

test('applyUpdate reverts status and read-only metadata the hook sent', () => {
  const observed: KubeObject = { apiVersion: 'v1', kind: 'X', metadata: { name: 'x', uid: 'u' }, status: { s: 1 } };
  const result = applyUpdate(observed, { apiVersion: 'v1', kind: 'X', metadata: { name: 'x', uid: 'other' }, status: { s: 2 } });
  assert.equal(result.metadata?.uid, 'u');
  assert.deepEqual(result['status'], { s: 1 });
});

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});
