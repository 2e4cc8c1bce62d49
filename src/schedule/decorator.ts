// The scheduler: a DecoratorController on PersistentVolumeClaims whose sync hook keeps the PVC's
// automatic PVCBackups (its attachments) and adds one when a schedule slot is due.
import type { Config } from '../config.ts';
import { formatTime } from '../duration.ts';
import type { Namespace, PersistentVolumeClaim } from '../kube/types.ts';
import { controllerOf } from '../kube/meta.ts';
import { LAST_SCHEDULED_ANNOTATION, MAINTENANCE_LABEL, PVC_LABEL, RETENTION_ERROR_ANNOTATION, SCHEDULE_ERROR_ANNOTATION } from '../labels.ts';
import { pvcLabelValue } from '../backup/labels-hook.ts';
import { ANNOTATION_OF, formatRecord, newestRecord, recordOnPvc } from '../retention/maintenance.ts';
import { effectiveRetention } from '../retention/policy.ts';
import { retainObserved, secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import { findObject, objectsOf } from '../metacontroller/objects.ts';
import type { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse, ObjectGroups, RelatedResourceRule } from '../metacontroller/types.ts';
import { API_VERSION } from '../schema/crds.ts';
import type { PVCBackup } from '../backup/types.ts';
import type { PVCRestore } from '../restore/types.ts';
import { automaticBackup } from './automatic-backup.ts';
import { decideSlot, type SlotInput } from './slots.ts';

export type SchedulerSyncRequest = DecoratorSyncRequest<PersistentVolumeClaim>;

export function slotInput(pvc: PersistentVolumeClaim, related: ObjectGroups | undefined, backups: PVCBackup[]): SlotInput {
  related ??= {};
  const ns = pvc.metadata.namespace ?? '';
  const owner = controllerOf(pvc);
  return {
    pvc,
    namespace: findObject<Namespace>(related, 'Namespace', 'v1', undefined, ns),
    restore: owner?.kind === 'PVCRestore' ? findObject<PVCRestore>(related, 'PVCRestore', API_VERSION, ns, owner.name) : undefined,
    backups,
  };
}

/** Only the annotation changes, so an unchanged PVC is never written (no sync loop). */
function annotationPatch(pvc: PersistentVolumeClaim, wanted: Record<string, string | null>): Record<string, string | null> | undefined {
  const current = pvc.metadata.annotations ?? {};
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (value === null ? key in current : current[key] !== value) patch[key] = value;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/**
 * The PVC remembers its repository's last prune and check (from its backups' statuses, which
 * housekeeping deletes later) and says why its retention policy cannot be used.
 */
function repositoryAnnotations(pvc: PersistentVolumeClaim, related: ObjectGroups, backups: readonly PVCBackup[], config: Config): Record<string, string | null> {
  const wanted: Record<string, string | null> = {};
  for (const kind of ['prune', 'check'] as const) {
    const newest = newestRecord([recordOnPvc(pvc, kind), ...backups.map((b) => b.status?.maintenance?.[kind])]);
    if (newest !== undefined) wanted[ANNOTATION_OF[kind]] = formatRecord(newest);
  }
  const ns = findObject<Namespace>(related, 'Namespace', 'v1', undefined, pvc.metadata.namespace ?? '');
  const retention = effectiveRetention(pvc, ns, config.retention);
  wanted[RETENTION_ERROR_ANNOTATION] = retention.ok ? null : `invalid retention policy ${JSON.stringify(retention.text)} (${retention.source}): ${retention.message}; nothing is forgotten`;
  return wanted;
}

export function syncScheduler(request: SchedulerSyncRequest, config: Config, now: Date): HookResult<DecoratorSyncResponse> {
  const pvc = request.object;
  const backups = objectsOf<PVCBackup>(request.attachments, 'PVCBackup', API_VERSION);
  const decision = decideSlot(slotInput(pvc, request.related, backups), config, now);
  // Existing attachments are named, never rebuilt: they are immutable (OnDelete) and housekeeping
  // deletes them when their TTL expires.
  const attachments = retainObserved(request.attachments);
  const wanted: Record<string, string | null> = {
    [SCHEDULE_ERROR_ANNOTATION]: decision.action === 'invalid' ? decision.message : null,
    ...repositoryAnnotations(pvc, request.related ?? {}, [...backups, ...objectsOf<PVCBackup>(request.related ?? {}, 'PVCBackup', API_VERSION)], config),
  };
  const response: DecoratorSyncResponse = { attachments };
  if (decision.action === 'create') {
    attachments.push(automaticBackup(pvc, decision.slot, config));
    wanted[LAST_SCHEDULED_ANNOTATION] = formatTime(decision.slot);
  }
  const annotations = annotationPatch(pvc, wanted);
  if (annotations !== undefined) response.annotations = annotations;
  if ((decision.action === 'create' || decision.action === 'wait') && decision.next !== undefined) {
    response.resyncAfterSeconds = secondsUntil(decision.next.getTime(), now);
  }
  const log: HookResult<DecoratorSyncResponse>['decision'] =
    decision.action === 'create'
      ? { reason: 'BackupCreated', slot: formatTime(decision.slot), source: decision.source }
      : decision.action === 'invalid'
        ? { reason: 'InvalidSchedule', message: decision.message }
        : { reason: decision.reason, message: decision.message };
  return { response, decision: log };
}

export function customizeScheduler(request: CustomizeRequest<PersistentVolumeClaim>): HookResult<CustomizeResponse> {
  const pvc = request.parent;
  const ns = pvc.metadata.namespace ?? '';
  const rules: RelatedResourceRule[] = [
    { apiVersion: 'v1', resource: 'namespaces', names: [ns] },
    // The backups of this PVC, manual ones too, that ran a prune or check: the repository's records.
    { apiVersion: API_VERSION, resource: 'pvcbackups', namespace: ns, labelSelector: { matchLabels: { [PVC_LABEL]: pvcLabelValue(pvc.metadata.name), [MAINTENANCE_LABEL]: 'true' } } },
  ];
  const owner = controllerOf(pvc);
  if (owner?.kind === 'PVCRestore') rules.push({ apiVersion: API_VERSION, resource: 'pvcrestores', namespace: ns, names: [owner.name] });
  return { response: { relatedResources: rules }, decision: { reason: 'Related', rules: rules.length } };
}
