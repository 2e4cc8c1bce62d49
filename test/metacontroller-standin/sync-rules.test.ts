import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childSelector, desiredChildren, desiredParentStatus } from './composite-sync.ts';
import type { CompositeConfig, DecoratorConfig } from './controller-spec.ts';
import { decoratorSelects, desiredAttachments, stringMapChanges } from './decorator-sync.ts';
import type { KubeObject, ResourceInfo } from './kube-types.ts';
import { DECORATOR_ANNOTATION } from './observe.ts';

const configMaps: ResourceInfo = { apiVersion: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, hasStatus: false };
const parent: KubeObject = { apiVersion: 't.io/v1', kind: 'P', metadata: { name: 'p', namespace: 'n', uid: 'uid-p', generation: 3 }, spec: {} };
const composite = (generateSelector: boolean): CompositeConfig => ({
  type: 'composite',
  name: 'cc',
  object: {},
  resyncPeriodSeconds: 0,
  sync: { url: 'http://x', timeoutMs: 1 },
  warnings: [],
  parent: { apiVersion: 't.io/v1', resource: 'ps' },
  children: [{ apiVersion: 'v1', resource: 'configmaps', method: '' }],
  generateSelector,
});

test('generateSelector: children get controller-uid and the parent namespace', () => {
  const desired = desiredChildren({ config: composite(true), children: [configMaps] }, parent, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }]);
  assert.deepEqual(desired['ConfigMap.v1']?.['n/c']?.metadata, { name: 'c', namespace: 'n', labels: { 'controller-uid': 'uid-p' } });
});

test('child types outside childResources and children not matching the selector are sync errors', () => {
  const rt = { config: composite(true), children: [configMaps] };
  assert.throws(() => desiredChildren(rt, parent, [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }]), /childResources/);
  assert.throws(() => desiredChildren(rt, parent, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { 'controller-uid': 'other' } } }]), /selector/);
  assert.throws(() => childSelector(composite(false), parent), /spec.selector/);
});

test('status: the hook status plus observedGeneration; null means only observedGeneration', () => {
  assert.deepEqual(desiredParentStatus(parent, null), { observedGeneration: 3 });
  assert.deepEqual(desiredParentStatus(parent, { phase: 'Done', observedGeneration: 1 }), { phase: 'Done', observedGeneration: 3 });
});

test('decorator label/annotation updates: null deletes, unmentioned keys stay, only changes are sent', () => {
  assert.deepEqual(stringMapChanges({ a: '1', b: '2', c: '3' }, { a: '1', b: null, d: '4', e: null }), { b: null, d: '4' });
  assert.deepEqual(stringMapChanges(undefined, {}), {});
});

test('decorator: selectors on labels and annotations, attachments get the decorator annotation', () => {
  const rule = { apiVersion: 'v1', resource: 'configmaps', labelSelector: { matchLabels: { a: 'b' } }, annotationSelector: { matchExpressions: [{ key: 'x', operator: 'Exists' }] } };
  assert.ok(decoratorSelects(rule, { metadata: { labels: { a: 'b' }, annotations: { x: '' } } }));
  assert.ok(!decoratorSelects(rule, { metadata: { labels: { a: 'b' } } }));
  const config = { name: 'dec' } as DecoratorConfig;
  const target: KubeObject = { metadata: { name: 't', namespace: 'n', uid: 'u' } };
  const desired = desiredAttachments({ config, attachments: [configMaps] }, target, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }]);
  assert.equal(desired['ConfigMap.v1']?.['n/a']?.metadata?.annotations?.[DECORATOR_ANNOTATION], 'dec');
  assert.throws(() => desiredAttachments({ config, attachments: [configMaps] }, target, [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }]));
});
