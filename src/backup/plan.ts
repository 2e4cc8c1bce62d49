// The BackupPlan of a backup Job: which retention policy forget applies, and whether the prune
// and the check of the repository are due (src/retention/maintenance.ts). Read back from the Job
// once it exists, so what the status reports is what the Job was told.
import type { Config } from '../config.ts';
import { isConditionTrue } from '../kube/meta.ts';
import type { Job, Namespace, PersistentVolumeClaim } from '../kube/types.ts';
import { PLAN_ANNOTATION } from '../labels.ts';
import { isDue, newestRecord, recordOnPvc, type MaintenanceKind } from '../retention/maintenance.ts';
import { effectiveRetention, forgetFlags, formatPolicy } from '../retention/policy.ts';
import type { BackupPlan, BackupTarget } from './children.ts';
import { backupPvc, type PVCBackup } from './types.ts';

export interface PlanInput {
  target: BackupTarget;
  /** This backup's Job, when observed. */
  job: Job | undefined;
  sourcePvc: PersistentVolumeClaim | undefined;
  namespace: Namespace | undefined;
  /** Other PVCBackups (their maintenance records count for the same PVC). */
  backups: readonly PVCBackup[];
  /** Jobs of any namespace that open the same repository (REPOSITORY_LABEL). */
  repositoryJobs: readonly Job[];
}

function planOfJob(job: Job | undefined): BackupPlan | undefined {
  const text = job?.metadata.annotations?.[PLAN_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as BackupPlan;
  } catch {
    return undefined;
  }
}

const finished = (job: Job) => isConditionTrue(job.status?.conditions, 'Complete') || isConditionTrue(job.status?.conditions, 'Failed');

export function backupPlan(input: PlanInput, config: Config, now: Date): BackupPlan {
  const recorded = planOfJob(input.job);
  if (recorded !== undefined) return recorded;
  const { target } = input;
  const retention = effectiveRetention(input.sourcePvc, input.namespace, config.retention);
  const samePvc = input.backups.filter((b) => b.metadata.namespace === target.namespace && backupPvc(b) === target.spec.pvc && b.metadata.uid !== target.uid);
  const last = (kind: MaintenanceKind) => newestRecord([recordOnPvc(input.sourcePvc, kind), ...samePvc.map((b) => b.status?.maintenance?.[kind])]);
  const prune = isDue(last('prune'), config.pruneIntervalMs, now);
  const check = isDue(last('check'), config.checkIntervalMs, now);
  const ownJob = input.job?.metadata.name;
  const othersRunning = input.repositoryJobs.some((j) => !finished(j) && !(j.metadata.namespace === target.namespace && j.metadata.name === ownJob));
  return {
    retention: retention.ok
      ? { policy: formatPolicy(retention.policy), source: retention.source, flags: forgetFlags(retention.policy) }
      : { policy: retention.text, source: retention.source, flags: [], error: `invalid retention policy ${JSON.stringify(retention.text)} (from the ${retention.source === 'default' ? 'operator' : `${retention.source} annotation`}): ${retention.message}; nothing was forgotten` },
    prune,
    ...(check ? { check: config.checkReadDataSubset } : {}),
    unlockAll: !othersRunning,
  };
}
