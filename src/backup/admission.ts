// The backup queue: which waiting PVCBackups may start, so that at most `maxRunningBackups` run
// cluster-wide and never two of one PVC. It is decided in one place, the sync of a
// DecoratorController on the operator's Namespace (metacontroller/backup-queue.yaml), which sees
// every unfinished PVCBackup once, and handed out as tickets (ConfigMaps), one step per queue sync:
// 1. a volume ticket `backup-volume-<pvc>` next to the backup,
// 2. once the queue sees that, a slot ticket `backup-slot-<i>`, i < the limit, in its Namespace,
// 3. once it sees both, an admission ticket `backup-admitted-<uid>` next to the backup, the only
//    ticket the backup's own sync needs (src/backup/queue.ts): it relates its own, so no backup is
//    re-synced when another one's tickets change.
//
// Exclusion comes from the API server, not from the queue's view: the names of volume and slot
// tickets are the thing they grant, so two tickets for one PVC or one slot cannot exist at once.
// Metacontroller creates a missing attachment and swallows AlreadyExists, never rewrites one
// (updateStrategy OnDelete), and deletes with the observed UID as precondition. So when a lagging
// view asks for a ticket another backup holds, the holder keeps it. A ticket is dropped only when
// its backup is seen finished or gone from the unfinished set (informers only move forward), and a
// name is handed on only once it is no longer observed at all. An admission ticket is made only
// after both of the backup's tickets were seen, and they stay until it finished: every backup that
// starts holds a PVC and a slot of its own.
//
// Slots go only to holders of a volume ticket: a slot holder can always go on, so a slot held by
// one backup and the volume by another never wait on each other. Volume tickets go to as many
// backups as the limit has places, and with BACKSNAP_SNAPSHOT_AHEAD as many again: those next in
// line take their snapshot while they wait (src/backup/sync.ts), so that it is ready when a slot
// frees, and no more snapshots are held by waiting backups than run at once.
import { namespaceInScope, type Config } from '../config.ts';
import type { ConfigMap, KubeObject } from '../kube/types.ts';
import { BACKUP_QUEUE_CONTROLLER, MANAGED_BY, RUN_UID_LABEL, TICKET_LABEL } from '../labels.ts';
import { hasStarted } from '../run/lifecycle.ts';
import { pvcLabelValue } from './labels-hook.ts';
import { backupPvc, type PVCBackup } from './types.ts';

export type TicketKind = 'volume' | 'slot' | 'admitted';

/** With snapshots ahead: a place of the limit for a running backup and one for the backup next in line after it. */
const volumeTicketsPerPlace = (config: Pick<Config, 'snapshotAhead'>) => (config.snapshotAhead ? 2 : 1);

export function volumeTicketName(pvc: string): string {
  return `backup-volume-${pvcLabelValue(pvc)}`;
}

export function slotTicketName(index: number): string {
  return `backup-slot-${index}`;
}

/** UIDs are never reused, names of PVCBackups are. */
export function admissionTicketName(uid: string): string {
  return `backup-admitted-${uid}`;
}

function ticket(kind: TicketKind, name: string, namespace: string, backup: PVCBackup): ConfigMap {
  const uid = backup.metadata.uid ?? '';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { ...MANAGED_BY, 'app.kubernetes.io/component': BACKUP_QUEUE_CONTROLLER, [TICKET_LABEL]: kind, [RUN_UID_LABEL]: uid } },
    data: { pvcbackup: `${backup.metadata.namespace ?? ''}/${backup.metadata.name}` },
  };
}

/** The ticket to the backup's PVC, next to the backup. */
export function volumeTicket(backup: PVCBackup): ConfigMap {
  return ticket('volume', volumeTicketName(backupPvc(backup) ?? ''), backup.metadata.namespace ?? '', backup);
}

/** Slot `index` of the cluster-wide limit, in the queue's Namespace. */
export function slotTicket(backup: PVCBackup, index: number, namespace: string): ConfigMap {
  return ticket('slot', slotTicketName(index), namespace, backup);
}

/** The ticket that lets the backup start, next to it. */
export function admissionTicket(backup: PVCBackup): ConfigMap {
  return ticket('admitted', admissionTicketName(backup.metadata.uid ?? ''), backup.metadata.namespace ?? '', backup);
}

export function ticketKind(t: ConfigMap): TicketKind | undefined {
  const kind = t.metadata.labels?.[TICKET_LABEL];
  return kind === 'volume' || kind === 'slot' || kind === 'admitted' ? kind : undefined;
}

/** The UID of the backup a ticket was made for. */
export function ticketHolder(t: ConfigMap): string {
  return t.metadata.labels?.[RUN_UID_LABEL] ?? '';
}

/** `namespace/name` of the backup a ticket was made for, for messages. */
export function ticketHolderName(t: ConfigMap): string {
  return t.data?.['pvcbackup'] ?? ticketHolder(t);
}

function isFinished(backup: PVCBackup): boolean {
  return backup.status?.result !== undefined;
}

function isRunning(backup: PVCBackup): boolean {
  return hasStarted(backup.status) && !isFinished(backup);
}

/** Waiting for a slot: not started, not finished, not being deleted, and one the hooks would run. */
function isWaiting(backup: PVCBackup, config: Pick<Config, 'namespaces'>): boolean {
  return (
    !hasStarted(backup.status) &&
    !isFinished(backup) &&
    backup.metadata.deletionTimestamp === undefined &&
    backupPvc(backup) !== undefined &&
    namespaceInScope(config, backup.metadata.namespace ?? '')
  );
}

/** The queue's order: oldest first, then by namespace and name, the same for every hook call. */
function queueOrder(backup: PVCBackup): string {
  return `${backup.metadata.creationTimestamp ?? ''}\u0000${backup.metadata.namespace ?? ''}\u0000${backup.metadata.name}`;
}

/** Oldest first, by queueOrder. */
function byQueueOrder(a: PVCBackup, b: PVCBackup): number {
  return queueOrder(a) < queueOrder(b) ? -1 : 1;
}

/** `namespace/name`, of a backup or a ticket. */
const nameOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const ticketOrder = (a: ConfigMap, b: ConfigMap) => (nameOf(a) < nameOf(b) ? -1 : 1);
/** The volume a backup is of, as its volume ticket's `namespace/name`: backups of one volume never run together. */
const volumeOf = (backup: PVCBackup) => `${backup.metadata.namespace ?? ''}/${volumeTicketName(backupPvc(backup) ?? '')}`;

export interface Admission {
  /** Every ticket the queue holds now, kept and new, in a stable order. */
  tickets: ConfigMap[];
  /** Backups given their volume ticket by this decision. */
  reserved: string[];
  /** Backups given a slot by this decision. */
  slotted: string[];
  /** Backups given their admission ticket by this decision: they may start. */
  admitted: string[];
  running: number;
  /** Waiting backups with no ticket yet. */
  waiting: number;
}

/**
 * The tickets for the observed unfinished backups (`backups`; finished ones may appear too) and
 * the tickets the queue holds (`held`); new slot tickets go to `slotNamespace`. With no
 * cluster-wide limit there are no slot tickets and every PVC's first waiting backup may start.
 */
export function admitBackups(backups: readonly PVCBackup[], held: readonly ConfigMap[], config: Pick<Config, 'maxRunningBackups' | 'namespaces' | 'snapshotAhead'>, slotNamespace: string): Admission {
  const limit = config.maxRunningBackups;
  const unfinished = new Map(backups.filter((b) => !isFinished(b) && b.metadata.uid !== undefined).map((b) => [b.metadata.uid ?? '', b]));
  const kept = held.filter((t) => ticketKind(t) !== undefined && unfinished.has(ticketHolder(t)));
  const holding = (kind: TicketKind) => new Set(kept.filter((t) => ticketKind(t) === kind).map(ticketHolder));
  const [withVolume, withSlot, withAdmission] = [holding('volume'), holding('slot'), holding('admitted')];
  // A dropped ticket's name stays taken until Metacontroller has deleted it: a name dropped and
  // desired again in one answer would neither be deleted nor, under OnDelete, rewritten.
  const observedNames = new Set(held.map(nameOf));
  const waiting = [...unfinished.values()].filter((b) => isWaiting(b, config)).sort(byQueueOrder);
  const tickets = kept.flatMap((t) => {
    const [kind, holder] = [ticketKind(t), unfinished.get(ticketHolder(t))];
    return kind === undefined || holder === undefined ? [] : [ticket(kind, t.metadata.name, t.metadata.namespace ?? '', holder)];
  });
  const uidOf = (b: PVCBackup) => b.metadata.uid ?? '';
  // An admitted backup runs or is about to, with or without a slot: admitted while there was no
  // limit (BACKSNAP_MAX_RUNNING_BACKUPS raised from 0), it still takes a place.
  const takesPlace = (uid: string, b: PVCBackup) => withSlot.has(uid) || withAdmission.has(uid) || isRunning(b);

  // 3. Admission for the backups seen holding their volume and, under a limit, a slot.
  const admitted = waiting.filter((b) => withVolume.has(uidOf(b)) && (limit === 0 || withSlot.has(uidOf(b))) && !withAdmission.has(uidOf(b)));
  tickets.push(...admitted.map(admissionTicket));

  // 2. Slots for volume holders, while slot names are free and running backups leave room.
  const slotted: PVCBackup[] = [];
  if (limit > 0) {
    const freeNames = Array.from({ length: limit }, (_, i) => i).filter((i) => !observedNames.has(`${slotNamespace}/${slotTicketName(i)}`));
    let inUse = [...unfinished].filter(([uid, b]) => takesPlace(uid, b)).length;
    for (const backup of waiting) {
      if (!withVolume.has(uidOf(backup)) || withSlot.has(uidOf(backup))) continue;
      const index = freeNames.shift();
      if (index === undefined || inUse >= limit) break;
      inUse += 1;
      tickets.push(slotTicket(backup, index, slotNamespace));
      slotted.push(backup);
    }
  }

  // 1. Volume tickets, oldest first, one per PVC, while the limit (twice it with snapshots ahead)
  // has places: held slots, running backups (with or without tickets seen) and volume tickets
  // waiting for a slot. A volume is busy while its ticket is observed (held, or dropped and not
  // deleted yet) or a backup of it runs.
  const busyVolumes = new Set([...held.filter((t) => ticketKind(t) === 'volume').map(nameOf), ...[...unfinished.values()].filter(isRunning).map(volumeOf)]);
  const claims = new Set([...unfinished].filter(([uid, b]) => takesPlace(uid, b) || withVolume.has(uid)).map(([uid]) => uid));
  const reserved: PVCBackup[] = [];
  for (const backup of waiting) {
    const uid = uidOf(backup);
    if (withVolume.has(uid) || busyVolumes.has(volumeOf(backup))) continue;
    if (limit > 0 && !claims.has(uid) && claims.size >= limit * volumeTicketsPerPlace(config)) continue;
    claims.add(uid);
    busyVolumes.add(volumeOf(backup));
    tickets.push(volumeTicket(backup));
    reserved.push(backup);
  }
  return {
    tickets: tickets.sort(ticketOrder),
    reserved: reserved.map(nameOf),
    slotted: slotted.map(nameOf),
    admitted: admitted.map(nameOf),
    running: [...unfinished.values()].filter(isRunning).length,
    waiting: waiting.filter((b) => !withVolume.has(uidOf(b)) && !reserved.includes(b)).length,
  };
}
