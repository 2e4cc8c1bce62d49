// Related objects a PVCBackup's sync needs: its source PVC and Namespace (retention policy, the
// last prune and check), the Pods of its Job (for restic's summary), the Jobs of any namespace that
// open the same repository (no lock may be removed while one runs) and, while it has not finished,
// its admission ticket and its PVC's volume ticket from the backup queue (for the gate); once finished,
// nothing (src/run/customize.ts). Metacontroller caches this answer per parent generation, so it
// depends on the spec and on whether the backup finished (a stale answer keeps rules a while).
import { MAINTENANCE_LABEL, PVC_LABEL, REPOSITORY_LABEL, RUN_UID_LABEL } from '../labels.ts';
import { pvcLabelValue } from './labels-hook.ts';
import { repositoryLabel } from '../restic/credentials.ts';
import type { HookResult } from '../metacontroller/hook.ts';
import type { CustomizeRequest, CustomizeResponse, RelatedResourceRule } from '../metacontroller/types.ts';
import { API_VERSION } from '../schema/crds.ts';
import { finishedRunCustomize } from '../run/customize.ts';
import { admissionTicketName, volumeTicketName } from './admission.ts';
import { backupPvc, type PVCBackup } from './types.ts';

export function customizeBackup(request: CustomizeRequest<PVCBackup>): HookResult<CustomizeResponse> {
  const { metadata, status } = request.parent;
  if (status?.result !== undefined) return finishedRunCustomize();
  const namespace = metadata.namespace ?? '';
  const rules: RelatedResourceRule[] = [];
  const pvc = backupPvc(request.parent);
  rules.push({ apiVersion: 'v1', resource: 'namespaces', names: [namespace] });
  if (pvc !== undefined && pvc !== '') {
    rules.push({ apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace, names: [pvc] });
    rules.push({ apiVersion: 'batch/v1', resource: 'jobs', labelSelector: { matchLabels: { [REPOSITORY_LABEL]: repositoryLabel({ namespace, pvc }) } } });
    // Finished backups of the same PVC that ran a prune or check: the records the PVC's
    // annotations may not carry yet (the scheduler copies them there a moment later).
    rules.push({ apiVersion: API_VERSION, resource: 'pvcbackups', namespace, labelSelector: { matchLabels: { [PVC_LABEL]: pvcLabelValue(pvc), [MAINTENANCE_LABEL]: 'true' } } });
  }
  if (metadata.uid !== undefined) {
    rules.push({ apiVersion: 'v1', resource: 'pods', namespace, labelSelector: { matchLabels: { [RUN_UID_LABEL]: metadata.uid } } });
    // The gate (src/backup/queue.ts): its admission ticket and its PVC's volume ticket, by name, so
    // neither the request nor the syncs it causes grow with the queue or history.
    const names = pvc !== undefined && pvc !== '' ? [admissionTicketName(metadata.uid), volumeTicketName(pvc)] : [admissionTicketName(metadata.uid)];
    rules.push({ apiVersion: 'v1', resource: 'configmaps', namespace, names });
  }
  return { response: { relatedResources: rules }, decision: { reason: 'Related', rules: rules.length } };
}
