// The backup queue: which waiting PVCBackups may start, so that at most `maxRunningBackups` run
// cluster-wide and never two of one PVC. It is decided in one place, the sync of a
// DecoratorController on the operator's Namespace (metacontroller/backup-queue.yaml), which sees
// every unfinished PVCBackup once, and handed out as slot tickets: one ConfigMap per admitted
// backup, next to it, that its own sync selects by name. A backup's sync thus reads O(1) objects
// however many backups wait, instead of every unfinished backup of the cluster.
//
// Stale views: a ticket is dropped only when its backup is seen finished or is gone from the
// unfinished set (informers only move forward, and the queue selected the backup before it made
// the ticket), so a lagging view keeps slots taken, never frees them early. A running backup counts
// whether or not its ticket is seen. A ticket made but not observed yet is made again by the next
// sync: the order is the same for every sync, so the same backups get it — unless the later view
// holds a backup sorting ahead that the earlier one missed, which then takes a second slot
// (docs/design-notes.md, "Concurrency through one queue").
import { namespaceInScope, type Config } from '../config.ts';
import type { ConfigMap } from '../kube/types.ts';
import { BACKUP_QUEUE_CONTROLLER, MANAGED_BY, RUN_UID_LABEL } from '../labels.ts';
import { hasStarted } from '../run/lifecycle.ts';
import { backupPvc, type PVCBackup } from './types.ts';

/** The ticket of the PVCBackup with this UID (UIDs are never reused, names are). */
export function slotTicketName(uid: string): string {
  return `backup-slot-${uid}`;
}

export function slotTicket(backup: PVCBackup): ConfigMap {
  const uid = backup.metadata.uid ?? '';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: slotTicketName(uid),
      namespace: backup.metadata.namespace ?? '',
      labels: { ...MANAGED_BY, 'app.kubernetes.io/component': BACKUP_QUEUE_CONTROLLER, [RUN_UID_LABEL]: uid },
    },
    data: { pvcbackup: backup.metadata.name },
  };
}

export function isFinished(backup: PVCBackup): boolean {
  return backup.status?.result !== undefined;
}

export function isRunning(backup: PVCBackup): boolean {
  return hasStarted(backup.status) && !isFinished(backup);
}

/** Waiting for a slot: not started, not finished, not being deleted, and one the hooks would run. */
export function isWaiting(backup: PVCBackup, config: Pick<Config, 'namespaces'>): boolean {
  return (
    !hasStarted(backup.status) &&
    !isFinished(backup) &&
    backup.metadata.deletionTimestamp === undefined &&
    backupPvc(backup) !== undefined &&
    namespaceInScope(config, backup.metadata.namespace ?? '')
  );
}

/** The queue's order: oldest first, then by namespace and name, the same for every hook call. */
export function queueOrder(backup: PVCBackup): string {
  return `${backup.metadata.creationTimestamp ?? ''}\u0000${backup.metadata.namespace ?? ''}\u0000${backup.metadata.name}`;
}

/** Oldest first, by queueOrder. */
function byQueueOrder(a: PVCBackup, b: PVCBackup): number {
  return queueOrder(a) < queueOrder(b) ? -1 : 1;
}

/** The volume a backup is of: backups of one volume never run together. */
export function volumeOf(backup: PVCBackup): string {
  return `${backup.metadata.namespace ?? ''}/${backupPvc(backup) ?? ''}`;
}

export interface Admission {
  /** Every ticket the queue holds now, kept and new, in a stable order. */
  tickets: ConfigMap[];
  /** Backups given a ticket by this decision. */
  admitted: string[];
  running: number;
  waiting: number;
}

/**
 * The tickets for the observed unfinished backups (`backups`; finished ones may appear too) and
 * the tickets the queue holds (`held`). With no cluster-wide limit every waiting backup of a PVC
 * without a running one is admitted.
 */
export function admitBackups(backups: readonly PVCBackup[], held: readonly ConfigMap[], config: Pick<Config, 'maxRunningBackups' | 'namespaces'>): Admission {
  const unfinished = new Map(backups.filter((b) => !isFinished(b) && b.metadata.uid !== undefined).map((b) => [b.metadata.uid ?? '', b]));
  const ticketed = new Map<string, PVCBackup>();
  for (const ticket of held) {
    const backup = unfinished.get(ticket.metadata.labels?.[RUN_UID_LABEL] ?? '');
    if (backup !== undefined) ticketed.set(backup.metadata.uid ?? '', backup);
  }
  // Slots taken: running backups, and admitted ones that have not started yet.
  const taken = new Map(ticketed);
  for (const [uid, backup] of unfinished) if (isRunning(backup)) taken.set(uid, backup);
  const busyVolumes = new Set([...taken.values()].map(volumeOf));
  const waiting = [...unfinished.values()].filter((b) => isWaiting(b, config) && !taken.has(b.metadata.uid ?? '')).sort(byQueueOrder);
  const admitted: PVCBackup[] = [];
  for (const backup of waiting) {
    if (config.maxRunningBackups > 0 && taken.size + admitted.length >= config.maxRunningBackups) break;
    // A later backup of a busy PVC waits for it; others behind it may go first.
    if (busyVolumes.has(volumeOf(backup))) continue;
    busyVolumes.add(volumeOf(backup));
    admitted.push(backup);
  }
  const tickets = [...ticketed.values(), ...admitted].sort(byQueueOrder).map(slotTicket);
  return { tickets, admitted: admitted.map((b) => `${b.metadata.namespace ?? ''}/${b.metadata.name}`), running: [...unfinished.values()].filter(isRunning).length, waiting: waiting.length - admitted.length };
}
