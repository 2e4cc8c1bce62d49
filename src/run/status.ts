// Conditions and status fields shared by backups and restores. The status is rebuilt on every
// sync and must come out byte-identical when nothing changed, or each write re-triggers a sync:
// timestamps are carried over from the previous status unless the state they describe changed,
// and terminal times come from what was observed (the Job's own times), never from the clock of
// the sync that happened to see them.
import type { Condition } from '../kube/types.ts';
import { formatGoDuration, formatTime, parseTime } from '../duration.ts';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
export type RunResult = 'Succeeded' | 'Failed';

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

/** The status fields every run has (backsnap's plus ours). */
export interface RunStatusBase {
  phase?: Phase;
  message?: string;
  conditions?: StatusCondition[];
  observedGeneration?: number;
  startedAt?: string;
  finishedAt?: string;
  duration?: string;
  result?: RunResult;
}

function condition(previous: readonly StatusCondition[] | undefined, type: string, status: 'True' | 'False', reason: string, message: string, at: Date): StatusCondition {
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === status ? before.lastTransitionTime : formatTime(at);
  return { type, status, reason, message, lastTransitionTime };
}

/** A condition a kind adds when it finishes (e.g. `RepositoryHealthy`). */
export interface ExtraCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/**
 * `Ready` is True once the run succeeded; `Failed` is True once it failed. Other conditions are
 * set when the run finishes and then kept as they are.
 */
export function runConditions(previous: readonly StatusCondition[] | undefined, state: RunState, at: Date, extra: readonly ExtraCondition[] = []): StatusCondition[] {
  const failed = state.phase === 'Failed';
  const base = [
    condition(previous, 'Ready', state.phase === 'Succeeded' ? 'True' : 'False', state.reason, state.message, at),
    condition(previous, 'Failed', failed ? 'True' : 'False', failed ? state.reason : 'NotFailed', failed ? state.message : '', at),
  ];
  const added = extra.map((c) => condition(previous, c.type, c.status, c.reason, c.message, at));
  const kept = (previous ?? []).filter((c) => c.type !== 'Ready' && c.type !== 'Failed' && !extra.some((e) => e.type === c.type));
  return [...base, ...[...added, ...kept].sort((a, b) => a.type.localeCompare(b.type))];
}

export interface FinishFields {
  finishedAt: string;
  duration: string;
  result: RunResult;
}

export function finishFields(startedAt: string | undefined, result: RunResult, at: Date): FinishFields {
  const finishedAt = formatTime(at);
  const start = parseTime(startedAt) ?? at;
  const end = parseTime(finishedAt) ?? at;
  return { finishedAt, duration: formatGoDuration((end.getTime() - start.getTime()) / 1000), result };
}

/** The state a status records, to answer unchanged when nothing new was observed. */
export function recordedState(status: RunStatusBase, what: string): RunState {
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (status.result === 'Succeeded') return { phase: 'Succeeded', reason: 'Succeeded', message: status.message ?? `${what} succeeded` };
  if (status.result === 'Failed') return { phase: 'Failed', reason: failed?.reason ?? 'Failed', message: status.message ?? `${what} failed` };
  return { phase: status.phase ?? 'Running', reason: ready?.reason ?? 'Starting', message: status.message ?? ready?.message ?? '' };
}

/** The reason a failed run recorded. */
export function failureReason(status: RunStatusBase): string | undefined {
  return status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')?.reason;
}
