// The concurrency gate: at most `maxRunningBackups` backups run cluster-wide, and never two of
// the same PVC. The state comes only from the PVCBackups' persisted status (hooks are stateless),
// and waiting backups are ordered the same way by every hook call, so two backups synced at the
// same time cannot both take the last slot.
import { namespaceInScope, type Config } from '../config.ts';
import { hasStarted } from '../run/lifecycle.ts';
import { backupPvc, type PVCBackup } from './types.ts';

function isRunning(backup: PVCBackup): boolean {
  return hasStarted(backup.status) && backup.status?.result === undefined;
}

function isWaiting(backup: PVCBackup, config: Config): boolean {
  return (
    !hasStarted(backup.status) &&
    backup.status?.result === undefined &&
    backup.metadata.deletionTimestamp === undefined &&
    backupPvc(backup) !== undefined &&
    namespaceInScope(config, backup.metadata.namespace ?? '')
  );
}

function queueOrder(a: PVCBackup): string {
  return `${a.metadata.creationTimestamp ?? ''}\u0000${a.metadata.namespace ?? ''}\u0000${a.metadata.name}`;
}

function sameVolume(a: PVCBackup, b: PVCBackup): boolean {
  return a.metadata.namespace === b.metadata.namespace && backupPvc(a) === backupPvc(b);
}

export type SlotDecision = { granted: true } | { granted: false; reason: string; message: string };

export function claimSlot(me: PVCBackup, others: readonly PVCBackup[], config: Config): SlotDecision {
  const peers = others.filter((b) => b.metadata.uid !== me.metadata.uid);
  const running = peers.filter(isRunning);
  const sameRunning = running.find((b) => sameVolume(b, me));
  if (sameRunning !== undefined) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${sameRunning.metadata.name} of the same PVC is still running` };
  }
  const ahead = peers.filter((b) => isWaiting(b, config) && queueOrder(b) < queueOrder(me));
  const sameAhead = ahead.find((b) => sameVolume(b, me));
  if (sameAhead !== undefined) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${sameAhead.metadata.name} of the same PVC goes first` };
  }
  if (config.maxRunningBackups > 0 && running.length + ahead.length >= config.maxRunningBackups) {
    return {
      granted: false,
      reason: 'WaitingForSlot',
      message: `${running.length} of at most ${config.maxRunningBackups} backups running, ${ahead.length} queued ahead of this one`,
    };
  }
  return { granted: true };
}
