// When a parent is synced: on start, when what its sync would observe changed (fingerprint), when
// a timer fires (resyncAfterSeconds, backoff after errors, Retry-After, periodic resync). This
// replaces Metacontroller's informer events plus rate-limited work queue for a polling driver.
import type { RelatedRule } from './hook-response.ts';
import type { SyncOutcome } from './sync-common.ts';

export interface ParentState {
  /** What the last sync observed; undefined until the first sync. */
  fingerprint: string | undefined;
  /** Related rules of the last customize answer, so the poller can watch those objects too. */
  relatedRules: RelatedRule[];
  /**
   * Due time (epoch ms) of the pending requeue. One per parent, the earliest wins: the delaying
   * work queue keeps a single waiting entry per key.
   */
  timer: number | undefined;
  /** Consecutive failed syncs, for exponential backoff. */
  failures: number;
  syncing: boolean;
  lastSyncEndedAt: number;
}

export const newParentState = (): ParentState => ({ fingerprint: undefined, relatedRules: [], timer: undefined, failures: 0, syncing: false, lastSyncEndedAt: 0 });

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;

/** 0.5 s, 1 s, 2 s, ... capped at 60 s. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * A parent is not judged from a snapshot taken before its last sync ended: that snapshot can
 * predate the sync's own writes and would only cause a redundant hook call.
 */
export function isDue(state: ParentState, observedFingerprint: string, now: number, snapshotStartedAt: number): boolean {
  if (state.syncing || state.lastSyncEndedAt > snapshotStartedAt) return false;
  return state.fingerprint === undefined || state.fingerprint !== observedFingerprint || (state.timer !== undefined && state.timer <= now);
}

/** Requeues at `at` unless an earlier one is pending. */
export function requeueAt(state: ParentState, at: number): void {
  state.timer = state.timer === undefined ? at : Math.min(state.timer, at);
}

/** A due timer is consumed by the sync about to start; a later one stays pending. */
export function beginSync(state: ParentState, now: number): void {
  state.syncing = true;
  if (state.timer !== undefined && state.timer <= now) state.timer = undefined;
}

/** Records a finished sync; returns a short description of the requeue, for the log. */
export function finishSync(state: ParentState, outcome: SyncOutcome, dispatchFingerprint: string, now: number): string {
  state.syncing = false;
  state.lastSyncEndedAt = now;
  if (outcome.result === 'gone') return '';
  if (outcome.result !== 'ignored' && outcome.relatedRules !== undefined) state.relatedRules = outcome.relatedRules;
  state.fingerprint = outcome.result === 'ignored' || outcome.result === 'synced' ? outcome.fingerprint : (outcome.fingerprint ?? dispatchFingerprint);
  const notes: string[] = [];
  const after = (ms: number, why: string): void => {
    requeueAt(state, now + ms);
    notes.push(`${why} in ${ms / 1000}s`);
  };
  switch (outcome.result) {
    case 'ignored':
      state.failures = 0;
      break;
    case 'synced':
      if (outcome.resyncAfterSeconds > 0) after(outcome.resyncAfterSeconds * 1000, 'resync');
      if (outcome.error === undefined) state.failures = 0;
      else after(backoffMs(++state.failures), 'retry');
      break;
    case 'failed':
      after(backoffMs(++state.failures), 'retry');
      break;
    case 'throttled':
      after(outcome.afterSeconds * 1000, 'retry (429)');
      break;
  }
  return notes.join(', ');
}
