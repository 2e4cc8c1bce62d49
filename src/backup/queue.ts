// The gate a waiting backup passes before it starts: its admission ticket from the backup queue
// (src/backup/admission.ts). The queue makes it only after it saw the backup hold its PVC's volume
// ticket and, under a cluster-wide limit, a slot, and those stay until the backup finished; so the
// admission ticket alone is enough, however stale the rest of this view is. The volume ticket,
// also observed, only says what the backup waits for.
import type { Config } from '../config.ts';
import type { ConfigMap } from '../kube/types.ts';
import { BACKUP_QUEUE_CONTROLLER } from '../labels.ts';
import { ticketHolder, ticketHolderName } from './admission.ts';
import type { PVCBackup } from './types.ts';

export type SlotDecision = { granted: true } | { granted: false; reason: string; message: string };

/** `admission` and `volume`: the backup's admission ticket and its PVC's volume ticket, if observed. */
export function claimSlot(me: PVCBackup, admission: ConfigMap | undefined, volume: ConfigMap | undefined, config: Pick<Config, 'maxRunningBackups'>): SlotDecision {
  const uid = me.metadata.uid ?? '';
  if (admission !== undefined && ticketHolder(admission) === uid) return { granted: true };
  if (volume !== undefined && ticketHolder(volume) !== uid) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${ticketHolderName(volume)} of the same PVC goes first` };
  }
  const limit = config.maxRunningBackups > 0 ? `at most ${config.maxRunningBackups} backups run at once` : 'no cluster-wide limit';
  const step = volume === undefined ? 'waiting for the backup queue' : 'next in line, waiting for a slot';
  return { granted: false, reason: 'WaitingForSlot', message: `${step} (DecoratorController ${BACKUP_QUEUE_CONTROLLER}; ${limit})` };
}
