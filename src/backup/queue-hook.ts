// The backup queue's hooks: a DecoratorController on the operator's Namespace whose related
// objects are all unfinished PVCBackups and whose attachments are the volume, slot and admission tickets
// (src/backup/admission.ts). The only hook that reads every waiting backup, once per change.
import type { Config } from '../config.ts';
import type { ConfigMap, Namespace } from '../kube/types.ts';
import { FINISHED_LABEL } from '../labels.ts';
import type { HookResult } from '../metacontroller/hook.ts';
import { objectsOf } from '../metacontroller/objects.ts';
import type { CustomizeRequest, CustomizeResponse, DecoratorSyncRequest, DecoratorSyncResponse } from '../metacontroller/types.ts';
import { API_VERSION } from '../schema/crds.ts';
import { admitBackups } from './admission.ts';
import type { PVCBackup } from './types.ts';

/** At most this many admitted backups are named in the decision line. */
const NAMED_IN_LOG = 5;

export function customizeBackupQueue(_request: CustomizeRequest<Namespace>): HookResult<CustomizeResponse> {
  // A backup not labelled yet is included, which is the safe side: its status says whether it finished.
  const unfinished = { matchExpressions: [{ key: FINISHED_LABEL, operator: 'DoesNotExist' as const }] };
  const rules = [{ apiVersion: API_VERSION, resource: 'pvcbackups', labelSelector: unfinished }];
  return { response: { relatedResources: rules }, decision: { reason: 'Related', rules: rules.length } };
}

export function syncBackupQueue(request: DecoratorSyncRequest<Namespace>, config: Config): HookResult<DecoratorSyncResponse> {
  const backups = objectsOf<PVCBackup>(request.related ?? {}, 'PVCBackup', API_VERSION);
  const held = objectsOf<ConfigMap>(request.attachments, 'ConfigMap', 'v1');
  // Slot tickets live in the decorated Namespace: one place, so their names exclude each other.
  const admission = admitBackups(backups, held, config, request.object.metadata.name);
  return {
    response: { attachments: admission.tickets },
    decision: {
      reason: admission.admitted.length > 0 ? 'Admitted' : admission.slotted.length + admission.reserved.length > 0 ? 'Queued' : 'NothingToAdmit',
      running: admission.running,
      waiting: admission.waiting,
      tickets: admission.tickets.length,
      reserved: admission.reserved.length,
      slotted: admission.slotted.length,
      admitted: admission.admitted.length,
      ...(admission.admitted.length > 0 ? { first: admission.admitted.slice(0, NAMED_IN_LOG).join(',') } : {}),
    },
  };
}
