// The view behind GET /debug/schedules: every PVC in scope, its effective schedule and where it
// came from, its last backups and its next slot.
import { compareStrings } from '../compare.ts';
import { namespaceInScope, type Config } from '../config.ts';
import { formatTime } from '../duration.ts';
import { isOwnedBy } from '../kube/meta.ts';
import type { ClusterState } from '../kube/cluster.ts';
import { backupsByPvc, type PVCBackup } from '../backup/types.ts';
import { chooseSchedule } from './resolve.ts';
import { decideSlot } from './slots.ts';

export interface ScheduleRow {
  namespace: string;
  pvc: string;
  schedule: string | null;
  source: string | null;
  state: string;
  message: string;
  nextSlot: string | null;
  lastBackup: { name: string; phase: string | null; result: string | null; finishedAt: string | null } | null;
  lastSuccessAt: string | null;
}

function summary(backup: PVCBackup | undefined): ScheduleRow['lastBackup'] {
  if (backup === undefined) return null;
  return { name: backup.metadata.name, phase: backup.status?.phase ?? null, result: backup.status?.result ?? null, finishedAt: backup.status?.finishedAt ?? null };
}

export function scheduleReport(state: ClusterState, config: Config, now: Date): ScheduleRow[] {
  const namespaces = new Map(state.namespaces.map((n) => [n.metadata.name, n]));
  const byPvc = backupsByPvc(state.backups);
  return state.pvcs
    .filter((pvc) => namespaceInScope(config, pvc.metadata.namespace ?? ''))
    .map((pvc): ScheduleRow => {
      const ns = pvc.metadata.namespace ?? '';
      const mine = byPvc.get(`${ns}/${pvc.metadata.name}`) ?? [];
      const started = (b: PVCBackup) => b.status?.startedAt ?? b.metadata.creationTimestamp ?? '';
      const byStart = [...mine].sort((a, b) => compareStrings(started(a), started(b)));
      const succeeded = mine.filter((b) => b.status?.result === 'Succeeded').map((b) => b.status?.finishedAt ?? '').sort();
      const choice = chooseSchedule(pvc, namespaces.get(ns), config);
      const decision = decideSlot({ pvc, namespace: namespaces.get(ns), restore: undefined, backups: mine.filter((b) => isOwnedBy(b, pvc.metadata.uid)) }, config, now);
      const next = decision.action === 'create' || decision.action === 'wait' ? decision.next : undefined;
      return {
        namespace: ns,
        pvc: pvc.metadata.name,
        schedule: choice.enabled ? choice.expression : null,
        source: choice.source ?? null,
        state: decision.action === 'create' ? 'Due' : decision.action === 'invalid' ? 'InvalidSchedule' : decision.reason,
        message: decision.action === 'create' ? `slot ${formatTime(decision.slot)} is due` : decision.message,
        nextSlot: next === undefined ? null : formatTime(next),
        lastBackup: summary(byStart.at(-1)),
        lastSuccessAt: succeeded.at(-1) ?? null,
      };
    })
    .sort((a, b) => compareStrings(`${a.namespace}/${a.pvc}`, `${b.namespace}/${b.pvc}`));
}
