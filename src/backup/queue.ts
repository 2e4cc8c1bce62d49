// The gate a waiting backup passes before it starts: the tickets of the backup queue
// (src/backup/admission.ts) naming it, its PVC's volume ticket and, under a cluster-wide limit, a
// slot ticket. Tickets exclude each other by name on the API server, so a backup that sees both
// naming it holds them, however stale the rest of its view is.
import type { Config } from '../config.ts';
import type { ConfigMap } from '../kube/types.ts';
import { BACKUP_QUEUE_CONTROLLER } from '../labels.ts';
import { ticketHolder, ticketHolderName } from './admission.ts';
import type { PVCBackup } from './types.ts';

export type SlotDecision = { granted: true } | { granted: false; reason: string; message: string };

/** `volume`: the observed volume ticket of the backup's PVC; `slots`: the observed slot tickets. */
export function claimSlot(me: PVCBackup, volume: ConfigMap | undefined, slots: readonly ConfigMap[], config: Pick<Config, 'maxRunningBackups'>): SlotDecision {
  const uid = me.metadata.uid ?? '';
  if (volume !== undefined && ticketHolder(volume) !== uid) {
    return { granted: false, reason: 'WaitingForSameVolume', message: `backup ${ticketHolderName(volume)} of the same PVC goes first` };
  }
  const limited = config.maxRunningBackups > 0;
  if (volume === undefined || (limited && !slots.some((t) => ticketHolder(t) === uid))) {
    const limit = limited ? `at most ${config.maxRunningBackups} backups run at once` : 'no cluster-wide limit';
    const step = volume === undefined ? 'waiting for the backup queue' : 'next in line, waiting for a slot';
    return { granted: false, reason: 'WaitingForSlot', message: `${step} (DecoratorController ${BACKUP_QUEUE_CONTROLLER}; ${limit})` };
  }
  return { granted: true };
}
