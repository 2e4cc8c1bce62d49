// Conditions and status fields shared by backups and restores. The status is rebuilt on every
// sync and must come out byte-identical when nothing changed, or each write re-triggers a sync:
// timestamps are carried over from the previous status unless the state they describe changed.
import type { Condition } from './kube/types.ts';
import { formatGoDuration, formatTime, parseTime } from './duration.ts';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface StatusCondition extends Condition {
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** Where a run stands, in words a human can act on. */
export interface RunState {
  phase: Phase;
  reason: string;
  message: string;
}

function condition(previous: readonly StatusCondition[] | undefined, type: string, status: 'True' | 'False', reason: string, message: string, now: Date): StatusCondition {
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === status ? before.lastTransitionTime : formatTime(now);
  return { type, status, reason, message, lastTransitionTime };
}

/** `Ready` is True once the run succeeded; `Failed` is True once it failed. */
export function runConditions(previous: readonly StatusCondition[] | undefined, state: RunState, now: Date): StatusCondition[] {
  const failed = state.phase === 'Failed';
  return [
    condition(previous, 'Ready', state.phase === 'Succeeded' ? 'True' : 'False', state.reason, state.message, now),
    condition(previous, 'Failed', failed ? 'True' : 'False', failed ? state.reason : 'NotFailed', failed ? state.message : '', now),
  ];
}

export interface FinishFields {
  finishedAt: string;
  duration: string;
  result: 'Succeeded' | 'Failed';
}

export function finishFields(startedAt: string | undefined, result: 'Succeeded' | 'Failed', now: Date): FinishFields {
  const finishedAt = formatTime(now);
  const start = parseTime(startedAt) ?? now;
  const end = parseTime(finishedAt) ?? now;
  return { finishedAt, duration: formatGoDuration((end.getTime() - start.getTime()) / 1000), result };
}
