// Backup state per PVC for Prometheus, computed from the cluster at scrape time so that every
// replica reports the same numbers (hook calls are spread over replicas, the cluster is not).
import { namespaceInScope, type Config } from '../config.ts';
import { parseGoDuration, parseTime } from '../duration.ts';
import type { ClusterState } from '../kube/cluster.ts';
import { backupPvc, type PVCBackup } from '../backup/types.ts';
import { parseSchedule } from '../schedule/cron.ts';
import { chooseSchedule } from '../schedule/resolve.ts';
import { newestRecord, recordOnPvc, type MaintenanceKind, type MaintenanceRecord } from '../retention/maintenance.ts';

export interface PvcBackupMetrics {
  namespace: string;
  pvc: string;
  lastSuccessSeconds: number | undefined;
  lastFailed: boolean | undefined;
  lastDurationSeconds: number | undefined;
  /** Seconds between two slots of the PVC's schedule; undefined without a (valid) schedule. */
  intervalSeconds: number | undefined;
  scheduleInvalid: boolean;
  /** No successful backup within twice the schedule interval. */
  overdue: boolean;
  runningSeconds: number | undefined;
  /** Snapshots kept after the newest backup's forget: the PVC's restore points. */
  snapshotsKept: number | undefined;
  lastPrune: { seconds: number; failed: boolean } | undefined;
  lastCheck: { seconds: number; failed: boolean } | undefined;
}

const seconds = (t: string | undefined) => {
  const d = parseTime(t);
  return d === undefined ? undefined : d.getTime() / 1000;
};

function lastRun(record: MaintenanceRecord | undefined): { seconds: number; failed: boolean } | undefined {
  const at = seconds(record?.at);
  return record === undefined || at === undefined ? undefined : { seconds: at, failed: record.result === 'Failed' };
}

export function backupMetrics(state: ClusterState, config: Config, now: Date): PvcBackupMetrics[] {
  const namespaces = new Map(state.namespaces.map((n) => [n.metadata.name, n]));
  const byPvc = new Map<string, PVCBackup[]>();
  for (const b of state.backups) {
    const key = `${b.metadata.namespace}/${backupPvc(b)}`;
    byPvc.set(key, [...(byPvc.get(key) ?? []), b]);
  }
  return state.pvcs
    .filter((pvc) => namespaceInScope(config, pvc.metadata.namespace ?? '') && pvc.metadata.labels?.['backsnap.skyb.it/temporary'] === undefined)
    .map((pvc) => {
      const ns = pvc.metadata.namespace ?? '';
      const backups = byPvc.get(`${ns}/${pvc.metadata.name}`) ?? [];
      const finished = backups.filter((b) => b.status?.finishedAt !== undefined).sort((a, b) => (a.status?.finishedAt ?? '').localeCompare(b.status?.finishedAt ?? ''));
      const last = finished.at(-1);
      const lastSuccess = finished.filter((b) => b.status?.result === 'Succeeded').at(-1);
      const running = backups.filter((b) => b.status?.startedAt !== undefined && b.status.result === undefined).map((b) => seconds(b.status?.startedAt) ?? 0);
      const choice = chooseSchedule(pvc, namespaces.get(ns), config);
      let intervalSeconds: number | undefined;
      let scheduleInvalid = false;
      if (choice.enabled) {
        const parsed = parseSchedule(choice.expression, pvc.metadata.uid ?? pvc.metadata.name, config.timeZone ?? 'UTC');
        if (parsed.ok) {
          const next = parsed.schedule.next(now);
          const after = next === undefined ? undefined : parsed.schedule.next(next);
          if (next !== undefined && after !== undefined) intervalSeconds = (after.getTime() - next.getTime()) / 1000;
        } else scheduleInvalid = true;
      }
      const lastSuccessSeconds = seconds(lastSuccess?.status?.finishedAt);
      const newest = (kind: MaintenanceKind) => newestRecord([recordOnPvc(pvc, kind), ...backups.map((b) => b.status?.maintenance?.[kind])]);
      const kept = finished.filter((b) => b.status?.retention?.kept !== undefined).at(-1)?.status?.retention?.kept;
      const since = lastSuccessSeconds ?? seconds(pvc.metadata.creationTimestamp) ?? now.getTime() / 1000;
      return {
        namespace: ns,
        pvc: pvc.metadata.name,
        lastSuccessSeconds,
        lastFailed: last === undefined ? undefined : last.status?.result === 'Failed',
        lastDurationSeconds: last?.status?.duration === undefined ? undefined : (parseGoDuration(last.status.duration) ?? 0) / 1000,
        intervalSeconds,
        scheduleInvalid,
        overdue: intervalSeconds !== undefined && now.getTime() / 1000 - since > 2 * intervalSeconds,
        runningSeconds: running.length === 0 ? undefined : now.getTime() / 1000 - Math.min(...running),
        snapshotsKept: kept,
        lastPrune: lastRun(newest('prune')),
        lastCheck: lastRun(newest('check')),
      };
    });
}
