import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildObjectMap, groupKey, objectKey } from './object-map.ts';
import { compositeSyncRequest, customizeRequest, decoratorSyncRequest } from './payload.ts';

test('group keys are Kind.apiVersion', () => {
  assert.equal(groupKey('Job', 'batch/v1'), 'Job.batch/v1');
  assert.equal(groupKey('Pod', 'v1'), 'Pod.v1');
  assert.equal(groupKey('VolumeSnapshot', 'snapshot.storage.k8s.io/v1'), 'VolumeSnapshot.snapshot.storage.k8s.io/v1');
  assert.equal(groupKey('PVCBackup', 'backsnap.skyb.it/v1alpha1'), 'PVCBackup.backsnap.skyb.it/v1alpha1');
});

test('v2 object keys: namespace/name, or name when cluster-scoped', () => {
  assert.equal(objectKey({ metadata: { namespace: 'ns', name: 'a' } }), 'ns/a');
  assert.equal(objectKey({ metadata: { name: 'kube-system' } }), 'kube-system');
});

test('every declared group is present even when empty', () => {
  const map = buildObjectMap(
    [
      { kind: 'Job', apiVersion: 'batch/v1' },
      { kind: 'ConfigMap', apiVersion: 'v1' },
    ],
    [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { namespace: 'ns', name: 'j' } }],
  );
  assert.deepEqual(Object.keys(map).sort(), ['ConfigMap.v1', 'Job.batch/v1']);
  assert.deepEqual(map['ConfigMap.v1'], {});
  assert.deepEqual(Object.keys(map['Job.batch/v1'] ?? {}), ['ns/j']);
});

test('request bodies use the exact v2 field names', () => {
  const controller = { kind: 'CompositeController' };
  const parent = { kind: 'P' };
  assert.deepEqual(Object.keys(compositeSyncRequest(controller, parent, {}, {})), ['controller', 'parent', 'children', 'related', 'finalizing']);
  assert.deepEqual(Object.keys(decoratorSyncRequest(controller, parent, {}, {})), ['controller', 'object', 'attachments', 'related', 'finalizing']);
  assert.deepEqual(Object.keys(customizeRequest(controller, parent)), ['controller', 'parent']);
  assert.equal(compositeSyncRequest(controller, parent, {}, {}).finalizing, false);
});
