// Runs whose Job has finished but whose result is not recorded yet, to be touched so that
// Metacontroller syncs them at once. Why: after hook errors (an outage of this service, a network
// problem) Metacontroller retries each object with a backoff that doubles up to 1000 s, and a Job
// that finished meanwhile sends no further event, so its result would wait for that backoff or for
// the controller's resyncPeriodSeconds. A changed annotation on the run is an update event, which
// Metacontroller queues immediately (and a successful sync resets the backoff). Finished runs are
// never touched, so they are not synced more often.
import type { Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import { controllerOf, findCondition, isConditionTrue } from '../kube/meta.ts';
import type { Job } from '../kube/types.ts';
import type { ObjectRef } from '../kube/cluster.ts';
import type { PVCBackup } from '../backup/types.ts';
import type { PVCRestore } from '../restore/types.ts';

/** On a PVCBackup or PVCRestore: when the service last asked Metacontroller to sync it. */
export const NUDGE_ANNOTATION = 'backsnap.skyb.it/resync-requested';
/** A Job finished this long ago without a recorded result: Metacontroller is not on it. */
const UNRECORDED_AFTER_MS = 10_000;

export interface Nudge extends ObjectRef {
  kind: 'PVCBackup' | 'PVCRestore';
  jobFinishedAt: string;
}

/** When the Job completed or failed, if it has. */
export function jobFinishedAt(job: Job): Date | undefined {
  const conditions = job.status?.conditions;
  if (isConditionTrue(conditions, 'Complete')) return parseTime(job.status?.completionTime) ?? parseTime(findCondition(conditions, 'Complete')?.lastTransitionTime);
  if (isConditionTrue(conditions, 'Failed')) return parseTime(findCondition(conditions, 'Failed')?.lastTransitionTime);
  return undefined;
}

/**
 * A run is nudged when its Job finished more than a few seconds ago, it has no result, and it
 * was not nudged within the last interval: at most one write per run and interval, only while stuck.
 */
export function planNudges(runs: readonly (PVCBackup | PVCRestore)[], jobs: readonly Job[], config: Pick<Config, 'nudgeIntervalMs'>, now: Date): Nudge[] {
  const interval = config.nudgeIntervalMs;
  const byUid = new Map(runs.map((r) => [r.metadata.uid ?? '', r]));
  const nudges: Nudge[] = [];
  for (const job of jobs) {
    const owner = controllerOf(job);
    const run = owner === undefined ? undefined : byUid.get(owner.uid);
    const finished = jobFinishedAt(job);
    if (run === undefined || finished === undefined || run.status?.result !== undefined || run.metadata.deletionTimestamp !== undefined) continue;
    if (now.getTime() - finished.getTime() < UNRECORDED_AFTER_MS) continue;
    const last = parseTime(run.metadata.annotations?.[NUDGE_ANNOTATION]);
    if (last !== undefined && now.getTime() - last.getTime() < interval) continue;
    nudges.push({ kind: run.kind, namespace: run.metadata.namespace ?? '', name: run.metadata.name, uid: run.metadata.uid ?? '', jobFinishedAt: formatTime(finished) });
  }
  return nudges.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
