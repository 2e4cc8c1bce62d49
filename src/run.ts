// What backups and restores share: turning an outcome of the state machine into a hook response.
import type { KubeObject, ObjectMeta } from './kube/types.ts';
import type { HookResult } from './metacontroller/hook.ts';
import type { CompositeSyncResponse } from './metacontroller/types.ts';
import { runConditions, type RunState, type StatusCondition } from './status.ts';

export interface RunStatusBase {
  phase?: RunState['phase'];
  message?: string;
  conditions?: StatusCondition[];
  observedGeneration?: number;
  startedAt?: string;
  result?: 'Succeeded' | 'Failed';
}

export interface Outcome<Status> {
  state: RunState;
  children: KubeObject[];
  fields?: Partial<Status>;
  resyncAfterSeconds?: number;
}

export function runResponse<Status extends RunStatusBase>(
  parent: { metadata: ObjectMeta; status?: Status },
  outcome: Outcome<Status>,
  now: Date,
): HookResult<CompositeSyncResponse<Status>> {
  const previous = parent.status ?? ({} as Status);
  const status: Status = {
    ...previous,
    ...outcome.fields,
    phase: outcome.state.phase,
    message: outcome.state.message,
    conditions: runConditions(previous.conditions, outcome.state, now),
  };
  if (parent.metadata.generation !== undefined) status.observedGeneration = parent.metadata.generation;
  const response: CompositeSyncResponse<Status> = { status, children: outcome.children };
  if (outcome.resyncAfterSeconds !== undefined) response.resyncAfterSeconds = outcome.resyncAfterSeconds;
  return {
    response,
    decision: {
      reason: outcome.state.reason,
      phase: outcome.state.phase,
      children: outcome.children.map((c) => c.kind),
      ...(outcome.resyncAfterSeconds === undefined ? {} : { resyncAfterSeconds: outcome.resyncAfterSeconds }),
    },
  };
}

/** The finished state as recorded in a status, to answer the same on every later sync. */
export function recordedState(status: RunStatusBase, what: string): RunState {
  if (status.result === 'Succeeded') return { phase: 'Succeeded', reason: 'Succeeded', message: status.message ?? `${what} succeeded` };
  const failed = status.conditions?.find((c) => c.type === 'Failed');
  return { phase: 'Failed', reason: failed?.reason ?? 'Failed', message: status.message ?? `${what} failed` };
}

/**
 * A run that has a start time but no phase was started by the Go backsnap operator (which never
 * wrote a phase). Its children are backsnap's, so it cannot be continued: it ends as Failed
 * instead of hanging, which frees its concurrency slot.
 */
export function startedByBacksnap(status: RunStatusBase | undefined): boolean {
  return status?.startedAt !== undefined && status.phase === undefined && status.result === undefined;
}

export const STARTED_BY_BACKSNAP = {
  reason: 'StartedByBacksnap',
  message: 'this run was started by the Go backsnap operator and cannot be resumed; create a new one',
} as const;
