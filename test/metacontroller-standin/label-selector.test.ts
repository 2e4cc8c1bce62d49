import assert from 'node:assert/strict';
import { test } from 'node:test';
import { annotationSelectorAsLabelSelector, matchesSelector } from './label-selector.ts';

test('null and empty selectors select everything', () => {
  assert.ok(matchesSelector(undefined, undefined));
  assert.ok(matchesSelector({}, { a: 'b' }));
});

test('matchLabels and every operator', () => {
  const labels = { app: 'x', tier: 'db' };
  assert.ok(matchesSelector({ matchLabels: { app: 'x' } }, labels));
  assert.ok(!matchesSelector({ matchLabels: { app: 'y' } }, labels));
  assert.ok(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'web'] }] }, labels));
  assert.ok(!matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'In', values: ['db'] }] }, labels));
  assert.ok(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['db'] }] }, labels));
  assert.ok(!matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels));
  assert.ok(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels));
  assert.ok(!matchesSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels));
  assert.ok(!matchesSelector({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels));
});

test('invalid selectors throw', () => {
  assert.throws(() => matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }, {}));
  assert.throws(() => matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, {}));
});

test('annotation selectors match annotations like labels', () => {
  const selector = annotationSelectorAsLabelSelector({ matchAnnotations: { 'backsnap.skyb.it/schedule': '@daily' } });
  assert.ok(matchesSelector(selector, { 'backsnap.skyb.it/schedule': '@daily' }));
  assert.ok(!matchesSelector(selector, {}));
  assert.equal(annotationSelectorAsLabelSelector(undefined), undefined);
});
