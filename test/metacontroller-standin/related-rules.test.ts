import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './kube-types.ts';
import { listNamespace, selectRelated, selectionType } from './related-rules.ts';

const obj = (namespace: string, name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name, labels } });
const all = [obj('a', 'x', { k: 'v' }), obj('a', 'y'), obj('b', 'x', { k: 'v' })];
const names = (objects: KubeObject[]): string[] => objects.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
const nsLabels = (ns: string): Record<string, string> | undefined => ({ a: { team: 'one' }, b: { team: 'two' } })[ns];

test('selection types and invalid combinations', () => {
  assert.equal(selectionType({ apiVersion: 'v1', resource: 'configmaps' }), 'Labels');
  assert.equal(selectionType({ apiVersion: 'v1', resource: 'configmaps', namespace: 'a', labelSelector: {} }), 'NamespaceAndLabels');
  assert.equal(selectionType({ apiVersion: 'v1', resource: 'configmaps', names: ['x'] }), 'NamespaceAndNames');
  assert.equal(selectionType({ apiVersion: 'v1', resource: 'configmaps', namespaceSelector: {} }), 'NamespaceSelector');
  assert.throws(() => selectionType({ apiVersion: 'v1', resource: 'configmaps', names: ['x'], labelSelector: {} }));
  assert.throws(() => selectionType({ apiVersion: 'v1', resource: 'configmaps', namespace: 'a', namespaceSelector: {} }));
});

test('names in a namespace, names in all namespaces, labels in a namespace or everywhere', () => {
  const rule = { apiVersion: 'v1', resource: 'configmaps' };
  assert.deepEqual(names(selectRelated({ ...rule, namespace: 'a', names: ['x'] }, true, all, nsLabels)), ['a/x']);
  assert.deepEqual(names(selectRelated({ ...rule, names: ['x'] }, true, all, nsLabels)), ['a/x', 'b/x']);
  assert.deepEqual(names(selectRelated({ ...rule, namespace: 'a', labelSelector: { matchLabels: { k: 'v' } } }, true, all, nsLabels)), ['a/x']);
  assert.deepEqual(names(selectRelated({ ...rule, labelSelector: { matchLabels: { k: 'v' } } }, true, all, nsLabels)), ['a/x', 'b/x']);
  assert.deepEqual(names(selectRelated(rule, true, all, nsLabels)), ['a/x', 'a/y', 'b/x']);
  assert.deepEqual(names(selectRelated({ ...rule, namespaceSelector: { matchLabels: { team: 'two' } } }, true, all, nsLabels)), ['b/x']);
  assert.equal(listNamespace({ ...rule, namespace: 'a', names: ['x'] }, true), 'a');
  assert.equal(listNamespace({ ...rule, labelSelector: {} }, true), undefined);
});

test('cluster-scoped resources by name', () => {
  const namespaces: KubeObject[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } }];
  const rule = { apiVersion: 'v1', resource: 'namespaces', names: ['b'] };
  assert.deepEqual(selectRelated(rule, false, namespaces, nsLabels).map((n) => n.metadata?.name), ['b']);
  assert.equal(listNamespace({ ...rule, namespace: 'ignored' }, false), undefined);
  assert.throws(() => selectRelated({ apiVersion: 'v1', resource: 'namespaces', namespaceSelector: {} }, false, namespaces, nsLabels));
});
