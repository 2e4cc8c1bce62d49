// The scheduler's decision for one PVC, shared by the DecoratorController hook and the
// housekeeping safety net so that both always agree. Stateless: what was already scheduled is
// read from the PVC's `last-scheduled` annotation and the slots of its automatic PVCBackups.
import type { Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import type { Namespace, PersistentVolumeClaim } from '../kube/types.ts';
import { controllerOf } from '../kube/meta.ts';
import { LAST_SCHEDULED_ANNOTATION, SCHEDULED_FOR_ANNOTATION, TEMPORARY_LABEL } from '../labels.ts';
import type { PVCBackup } from '../backup/types.ts';
import type { PVCRestore } from '../restore/types.ts';
import { parseSchedule } from './cron.ts';
import { chooseSchedule, type ScheduleSource } from './resolve.ts';

export interface SlotInput {
  pvc: PersistentVolumeClaim;
  namespace: Namespace | undefined;
  /** The PVCRestore that created this PVC, if it is still observed. */
  restore: PVCRestore | undefined;
  /** The PVC's automatic PVCBackups. */
  backups: readonly PVCBackup[];
}

export type SlotDecision =
  | { action: 'skip'; reason: string; message: string }
  | { action: 'invalid'; message: string; source: ScheduleSource }
  | { action: 'wait'; reason: string; message: string; source: ScheduleSource; expression: string; next: Date | undefined; lastSlot: Date | undefined }
  | { action: 'create'; slot: Date; source: ScheduleSource; expression: string; next: Date | undefined };

export function slotOf(backup: PVCBackup): Date | undefined {
  return parseTime(backup.metadata.annotations?.[SCHEDULED_FOR_ANNOTATION]);
}

function latest(dates: (Date | undefined)[]): Date | undefined {
  return dates.filter((d): d is Date => d !== undefined).reduce<Date | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
}

function ineligible(input: SlotInput): { reason: string; message: string } | undefined {
  const { pvc } = input;
  if (pvc.metadata.deletionTimestamp !== undefined) return { reason: 'PVCDeleting', message: 'the PVC is being deleted' };
  const owner = controllerOf(pvc);
  if (pvc.metadata.labels?.[TEMPORARY_LABEL] !== undefined || owner?.kind === 'PVCBackup') {
    return { reason: 'TemporaryVolume', message: 'a temporary volume of a backup is never backed up' };
  }
  if (owner?.kind === 'PVCRestore' && input.restore !== undefined && input.restore.status?.result === undefined) {
    return { reason: 'BeingRestored', message: `PVCRestore ${owner.name} is still restoring this PVC` };
  }
  if (pvc.status?.phase !== 'Bound') return { reason: 'PVCNotBound', message: `the PVC is ${pvc.status?.phase ?? 'not bound'}` };
  return undefined;
}

export function decideSlot(input: SlotInput, config: Config, now: Date): SlotDecision {
  const skip = ineligible(input);
  if (skip !== undefined) return { action: 'skip', ...skip };
  const choice = chooseSchedule(input.pvc, input.namespace, config);
  if (!choice.enabled) return { action: 'skip', reason: 'NoSchedule', message: choice.reason };
  const parsed = parseSchedule(choice.expression, input.pvc.metadata.uid ?? input.pvc.metadata.name, config.timeZone ?? 'UTC');
  if (!parsed.ok) return { action: 'invalid', message: `${choice.source} schedule: ${parsed.message}`, source: choice.source };
  const { schedule } = parsed;
  const base = { source: choice.source, expression: choice.expression, next: schedule.next(now) };

  const lastSlot = schedule.previous(now);
  // Slots up to the PVC's creation are not owed; a new PVC gets its first backup at its next slot.
  const covered = latest([
    parseTime(input.pvc.metadata.creationTimestamp),
    parseTime(input.pvc.metadata.annotations?.[LAST_SCHEDULED_ANNOTATION]),
    ...input.backups.map(slotOf),
  ]);
  if (lastSlot === undefined || (covered !== undefined && lastSlot <= covered)) {
    return { action: 'wait', reason: 'UpToDate', message: 'no slot is due', ...base, lastSlot };
  }
  const running = input.backups.find((b) => b.status?.result === undefined && b.metadata.deletionTimestamp === undefined);
  if (running !== undefined) {
    return { action: 'wait', reason: 'BackupRunning', message: `slot ${formatTime(lastSlot)} waits for ${running.metadata.name} to finish`, ...base, lastSlot };
  }
  // However many slots were missed, only the latest one is backed up: a catch-up, never a burst.
  return { action: 'create', slot: lastSlot, ...base };
}
