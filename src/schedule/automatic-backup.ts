// The PVCBackup the scheduler creates for a slot. The decorator hook returns it as an attachment;
// housekeeping creates exactly the same object (plus what Metacontroller would add) as a safety net.
import type { Config } from '../config.ts';
import { formatTime } from '../duration.ts';
import type { PersistentVolumeClaim } from '../kube/types.ts';
import { AUTOMATIC_LABEL, DECORATOR_ANNOTATION, MANAGED_BY, PVC_LABEL, SCHEDULED_FOR_ANNOTATION, SCHEDULER_CONTROLLER } from '../labels.ts';
import { pvcLabelValue } from '../backup/labels-hook.ts';
import { boundedName } from '../names.ts';
import { API_VERSION } from '../schema/crds.ts';
import type { PVCBackup } from '../backup/types.ts';
import type { PVCBackupSpec } from '../schema/pvcbackup.ts';

/** backsnap's `<pvc>-<unix seconds>`, but of the slot (deterministic), hash-truncated to 63. */
export function automaticBackupName(pvcName: string, slot: Date): string {
  return boundedName([pvcName, String(Math.floor(slot.getTime() / 1000))]);
}

export function automaticBackup(pvc: PersistentVolumeClaim, slot: Date, config: Config): PVCBackup & { spec: PVCBackupSpec } {
  return {
    apiVersion: API_VERSION,
    kind: 'PVCBackup',
    metadata: {
      name: automaticBackupName(pvc.metadata.name, slot),
      namespace: pvc.metadata.namespace ?? '',
      // The labeler's PVC label from the start: one write less per backup at a busy slot.
      labels: { ...MANAGED_BY, [AUTOMATIC_LABEL]: 'true', [PVC_LABEL]: pvcLabelValue(pvc.metadata.name) },
      annotations: { [SCHEDULED_FOR_ANNOTATION]: formatTime(slot) },
    },
    spec: { ...config.automaticBackupDefaults, pvc: pvc.metadata.name, ttl: config.automaticBackupTtl },
  };
}

/** What Metacontroller adds to an attachment, for housekeeping to create an adoptable twin. */
export function asDecoratorAttachment(backup: PVCBackup, pvc: PersistentVolumeClaim): PVCBackup {
  return {
    ...backup,
    metadata: {
      ...backup.metadata,
      annotations: { ...backup.metadata.annotations, [DECORATOR_ANNOTATION]: SCHEDULER_CONTROLLER },
      ownerReferences: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: pvc.metadata.name, uid: pvc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
  };
}
