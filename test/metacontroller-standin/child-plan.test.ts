import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAST_APPLIED_ANNOTATION, canonicalJson } from './apply-merge.ts';
import { makeControllerRef, planChildren, type ChildOperation } from './child-plan.ts';
import type { KubeObject } from './kube-types.ts';
import { buildObjectMap } from './object-map.ts';

const parent: KubeObject = { apiVersion: 'test.io/v1', kind: 'P', metadata: { name: 'p', namespace: 'n', uid: 'uid-p' } };
const ref = makeControllerRef(parent);
const groups = [{ kind: 'ConfigMap', apiVersion: 'v1' }];

function cm(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'n' }, data };
}

/** What the API server would hold after the stand-in created `desired`. */
function live(desired: KubeObject, uid: string, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    ...desired,
    ...extra,
    metadata: { ...desired.metadata, uid, resourceVersion: '1', ownerReferences: [ref], annotations: { [LAST_APPLIED_ANNOTATION]: canonicalJson(desired) } },
  };
}

const plan = (observed: KubeObject[], desired: KubeObject[], method = 'OnDelete'): ChildOperation[] => {
  const result = planChildren({ observed: buildObjectMap(groups, observed), desired: buildObjectMap(groups, desired), methodOf: () => method, controllerRef: ref });
  assert.deepEqual(result.errors, []);
  return result.operations;
};

test('creates missing children with last-applied annotation and the controller ownerReference', () => {
  const nsRef = { apiVersion: 'v1', kind: 'Namespace', name: 'n', uid: 'uid-n' };
  const desired = { ...cm('a', { k: 'v' }), metadata: { name: 'a', namespace: 'n', ownerReferences: [nsRef] } };
  const [op, ...rest] = plan([], [desired]);
  assert.equal(rest.length, 0);
  assert.equal(op?.op, 'create');
  const created = op?.op === 'create' ? op.obj : {};
  assert.deepEqual(created.metadata?.ownerReferences, [nsRef, { ...ref }]);
  assert.equal(created.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], canonicalJson(desired));
});

test('keeps unchanged children, deletes children missing from the desired list (first)', () => {
  const a = cm('a', { k: 'v' });
  const b = cm('b', { k: 'v' });
  assert.deepEqual(plan([live(a, 'ua'), live(b, 'ub')], [a]), [{ op: 'delete', obj: live(b, 'ub'), reason: 'not desired' }]);
  const ops = plan([live(a, 'ua')], [cm('c', {})]);
  assert.deepEqual(ops.map((o) => o.op), ['delete', 'create']);
});

test('children already being deleted are neither deleted again nor updated', () => {
  const a = cm('a', { k: 'v' });
  const deleting = live(a, 'ua');
  deleting.metadata = { ...deleting.metadata, deletionTimestamp: 'now' };
  assert.deepEqual(plan([deleting], []), []);
  assert.deepEqual(plan([deleting], [cm('a', { k: 'w' })], 'InPlace'), []);
});

test('update methods: OnDelete never, Recreate deletes, InPlace patches with resourceVersion', () => {
  const old = live(cm('a', { k: 'v' }), 'ua');
  const changed = cm('a', { k: 'w' });
  assert.deepEqual(plan([old], [changed], 'OnDelete'), []);
  assert.deepEqual(plan([old], [changed], 'Recreate'), [{ op: 'delete', obj: old, reason: 'recreate' }]);
  const [update] = plan([old], [changed], 'InPlace');
  assert.equal(update?.op, 'update');
  if (update?.op === 'update') {
    assert.deepEqual(update.patch['data'], { k: 'w' });
    const meta = update.patch['metadata'] as { resourceVersion: string; annotations: Record<string, string> };
    assert.equal(meta.resourceVersion, '1');
    assert.equal(meta.annotations[LAST_APPLIED_ANNOTATION], canonicalJson(changed));
  }
  assert.deepEqual(plan([old], [cm('a', { k: 'v' })], 'InPlace'), []);
});

test('InPlace corrects drift of fields the hook owns, like kubectl apply', () => {
  const desired = cm('a', { k: 'v' });
  const drifted = live(desired, 'ua', { data: { k: 'edited', other: 'x' } });
  const [update] = plan([drifted], [desired], 'InPlace');
  assert.equal(update?.op, 'update');
  if (update?.op === 'update') assert.deepEqual(update.patch['data'], { k: 'v' });
});

test('unknown update methods are reported, the rest continues', () => {
  const old = live(cm('a', { k: 'v' }), 'ua');
  const result = planChildren({ observed: buildObjectMap(groups, [old]), desired: buildObjectMap(groups, [cm('a', { k: 'w' }), cm('b', {})]), methodOf: () => 'Sometimes', controllerRef: ref });
  assert.equal(result.errors.length, 1);
  assert.deepEqual(result.operations.map((o) => o.op), ['create']);
});
