// The gate a waiting backup passes before it starts: a slot ticket from the backup queue
// (src/backup/admission.ts), and no other backup of the same PVC running or ahead of it. The
// queue already keeps backups of one PVC apart; checking the backups of the PVC here too keeps
// that true when the queue's view lags behind this one.
import type { Config } from '../config.ts';
import type { ConfigMap } from '../kube/types.ts';
import { BACKUP_QUEUE_CONTROLLER } from '../labels.ts';
import { isRunning, isWaiting, queueOrder, volumeOf } from './admission.ts';
import type { PVCBackup } from './types.ts';

export type SlotDecision = { granted: true } | { granted: false; reason: string; message: string };

/** `peers`: the observed unfinished backups of the same PVC (others are ignored). */
export function claimSlot(me: PVCBackup, peers: readonly PVCBackup[], ticket: ConfigMap | undefined, config: Config): SlotDecision {
  const mine = volumeOf(me);
  const others = peers.filter((b) => b.metadata.uid !== me.metadata.uid && volumeOf(b) === mine);
  const running = others.find(isRunning);
  if (running !== undefined) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${running.metadata.name} of the same PVC is still running` };
  }
  const ahead = others.find((b) => isWaiting(b, config) && queueOrder(b) < queueOrder(me));
  if (ahead !== undefined) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${ahead.metadata.name} of the same PVC goes first` };
  }
  if (ticket === undefined) {
    const limit = config.maxRunningBackups > 0 ? `at most ${config.maxRunningBackups} backups run at once` : 'no cluster-wide limit';
    return { granted: false, reason: 'WaitingForSlot', message: `waiting for a slot from the backup queue (DecoratorController ${BACKUP_QUEUE_CONTROLLER}; ${limit})` };
  }
  return { granted: true };
}
