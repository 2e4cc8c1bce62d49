// Carries out a housekeeping plan. Safe to run from several replicas at once: deletions carry
// UID preconditions and count "already gone" as done; creations count "already exists" as done.
import type { Config } from '../config.ts';
import { backupPvc } from '../backup/types.ts';
import { readClusterState, type Cluster } from '../kube/cluster.ts';
import { planHousekeeping, type Deletion, type HousekeepingPlan } from './plan.ts';

export interface HousekeepingSummary {
  deleted: Omit<Deletion, 'uid'>[];
  alreadyGone: number;
  created: { namespace: string; name: string; pvc: string }[];
  alreadyCreated: number;
  kept: HousekeepingPlan['kept'];
}

export async function runHousekeeping(cluster: Cluster, config: Config, now: Date): Promise<HousekeepingSummary> {
  const plan = planHousekeeping(await readClusterState(cluster), config, now);
  const summary: HousekeepingSummary = { deleted: [], alreadyGone: 0, created: [], alreadyCreated: 0, kept: plan.kept };
  for (const deletion of plan.deletions) {
    const done = deletion.kind === 'PVCBackup' ? await cluster.deleteBackup(deletion) : await cluster.deleteRestore(deletion);
    if (done) summary.deleted.push({ kind: deletion.kind, namespace: deletion.namespace, name: deletion.name, reason: deletion.reason });
    else summary.alreadyGone += 1;
  }
  for (const backup of plan.creations) {
    if (await cluster.createBackup(backup)) {
      summary.created.push({ namespace: backup.metadata.namespace ?? '', name: backup.metadata.name, pvc: backupPvc(backup) ?? '' });
    } else summary.alreadyCreated += 1;
  }
  return summary;
}
