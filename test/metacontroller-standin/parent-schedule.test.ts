import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, beginSync, finishSync, isDue, newParentState } from './parent-schedule.ts';

const synced = (fingerprint: string, extra: { resyncAfterSeconds?: number; error?: string } = {}) => {
  const outcome = { result: 'synced' as const, fingerprint, counts: { creates: 0, deletes: 0, updates: 0 }, resyncAfterSeconds: extra.resyncAfterSeconds ?? 0, statusWritten: false, relatedRules: [] };
  return extra.error === undefined ? outcome : { ...outcome, error: extra.error };
};

test('due on start, on change and on timers; not when nothing changed', () => {
  const state = newParentState();
  assert.ok(isDue(state, 'f1', 1000, 1000));
  beginSync(state, 1000);
  assert.ok(!isDue(state, 'f2', 1000, 1000), 'never twice at once');
  finishSync(state, synced('f1', { resyncAfterSeconds: 5 }), 'f1', 1100);
  assert.ok(!isDue(state, 'f1', 1200, 1050), 'snapshot older than the sync is not judged');
  assert.ok(!isDue(state, 'f1', 1200, 1200));
  assert.ok(isDue(state, 'f2', 1200, 1200));
  assert.ok(isDue(state, 'f1', 6100, 6100), 'resyncAfterSeconds');
  beginSync(state, 6100);
  assert.equal(state.timer, undefined);
});

test('failures back off exponentially up to 60 s; success resets', () => {
  assert.deepEqual([1, 2, 3, 8, 20].map(backoffMs), [500, 1000, 2000, 60_000, 60_000]);
  const state = newParentState();
  beginSync(state, 0);
  finishSync(state, { result: 'failed', error: 'boom' }, 'f0', 0);
  assert.equal(state.fingerprint, 'f0', 'no storm: the failed state is remembered');
  assert.equal(state.timer, 500);
  beginSync(state, 500);
  finishSync(state, { result: 'failed', fingerprint: 'f1', error: 'boom' }, 'f0', 500);
  assert.equal(state.timer, 1500);
  beginSync(state, 1500);
  finishSync(state, synced('f1'), 'f1', 1500);
  assert.equal(state.failures, 0);
  assert.equal(state.timer, undefined);
});

test('429 requeues after Retry-After without increasing the backoff', () => {
  const state = newParentState();
  state.failures = 3;
  beginSync(state, 0);
  finishSync(state, { result: 'throttled', afterSeconds: 4 }, 'f', 0);
  assert.equal(state.timer, 4000);
  assert.equal(state.failures, 3);
});

test('one pending requeue per parent, the earliest wins (manage errors back off despite resyncAfterSeconds)', () => {
  const state = newParentState();
  beginSync(state, 0);
  finishSync(state, synced('f', { resyncAfterSeconds: 10, error: 'create failed' }), 'f', 0);
  assert.equal(state.timer, 500);
  beginSync(state, 100);
  assert.equal(state.timer, 500, 'a sync triggered by a change leaves a later timer pending');
  finishSync(state, synced('f', { resyncAfterSeconds: 10 }), 'f', 100);
  assert.equal(state.timer, 500);
});
