// What housekeeping should do, as a pure function of the listed objects and the clock:
// delete PVCBackups and PVCRestores past their TTL (keeping each PVC's newest successful
// backup), and create an automatic backup the scheduler is late for (the same object the
// DecoratorController would have made, so it adopts it).
import { namespaceInScope, type Config } from '../config.ts';
import { formatTime, parseGoDuration, parseTime } from '../duration.ts';
import { isOwnedBy, specString } from '../kube/meta.ts';
import type { ClusterState, ObjectRef } from '../kube/cluster.ts';
import { backupPvc, type PVCBackup } from '../backup/types.ts';
import type { PVCRestore } from '../restore/types.ts';
import { asDecoratorAttachment, automaticBackup } from '../schedule/automatic-backup.ts';
import { decideSlot } from '../schedule/slots.ts';

export interface Deletion extends ObjectRef {
  kind: 'PVCBackup' | 'PVCRestore';
  reason: string;
}

export interface HousekeepingPlan {
  deletions: Deletion[];
  creations: PVCBackup[];
  /** Finished objects kept although their TTL passed, and why. */
  kept: { kind: 'PVCBackup'; namespace: string; name: string; reason: string }[];
}

function ref(object: PVCBackup | PVCRestore): ObjectRef {
  return { namespace: object.metadata.namespace ?? '', name: object.metadata.name, uid: object.metadata.uid ?? '' };
}

/** finishedAt + ttl has passed; objects without a ttl are kept forever (backsnap's rule). */
function expired(object: PVCBackup | PVCRestore, now: Date): string | undefined {
  const finished = parseTime(object.status?.finishedAt);
  const ttlText = specString(object.spec, 'ttl');
  const ttl = ttlText === undefined ? undefined : parseGoDuration(ttlText);
  if (finished === undefined || ttl === undefined || object.metadata.deletionTimestamp !== undefined) return undefined;
  return finished.getTime() + ttl <= now.getTime() ? `finished ${formatTime(finished)}, ttl passed` : undefined;
}

function newestSuccessful(backups: readonly PVCBackup[]): Map<string, PVCBackup> {
  const newest = new Map<string, PVCBackup>();
  for (const b of backups) {
    if (b.status?.result !== 'Succeeded') continue;
    const key = `${b.metadata.namespace}/${backupPvc(b) ?? ''}`;
    const current = newest.get(key);
    if (current === undefined || (b.status.finishedAt ?? '') > (current.status?.finishedAt ?? '')) newest.set(key, b);
  }
  return newest;
}

export function planHousekeeping(state: ClusterState, config: Config, now: Date): HousekeepingPlan {
  const inScope = (o: { metadata: { namespace?: string } }) => namespaceInScope(config, o.metadata.namespace ?? '');
  const backups = state.backups.filter(inScope);
  const plan: HousekeepingPlan = { deletions: [], creations: [], kept: [] };

  const keep = newestSuccessful(backups);
  for (const backup of backups) {
    const reason = expired(backup, now);
    if (reason === undefined) continue;
    if (keep.get(`${backup.metadata.namespace}/${backupPvc(backup) ?? ''}`) === backup) {
      plan.kept.push({ kind: 'PVCBackup', namespace: backup.metadata.namespace ?? '', name: backup.metadata.name, reason: 'newest successful backup of its PVC' });
      continue;
    }
    plan.deletions.push({ kind: 'PVCBackup', ...ref(backup), reason });
  }
  for (const restore of state.restores.filter(inScope)) {
    const reason = expired(restore, now);
    if (reason !== undefined) plan.deletions.push({ kind: 'PVCRestore', ...ref(restore), reason });
  }

  const namespaces = new Map(state.namespaces.map((n) => [n.metadata.name, n]));
  const restores = new Map(state.restores.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]));
  for (const pvc of state.pvcs) {
    const ns = pvc.metadata.namespace ?? '';
    const owner = pvc.metadata.ownerReferences?.find((o) => o.controller === true && o.kind === 'PVCRestore');
    const decision = decideSlot(
      {
        pvc,
        namespace: namespaces.get(ns),
        restore: owner === undefined ? undefined : restores.get(`${ns}/${owner.name}`),
        backups: state.backups.filter((b) => b.metadata.namespace === ns && isOwnedBy(b, pvc.metadata.uid)),
      },
      config,
      now,
    );
    if (decision.action === 'create' && now.getTime() - decision.slot.getTime() >= config.housekeepingGraceMs) {
      plan.creations.push(asDecoratorAttachment(automaticBackup(pvc, decision.slot, config), pvc));
    }
  }
  return plan;
}
