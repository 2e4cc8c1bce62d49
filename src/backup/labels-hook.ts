// The PVCBackup labeler: a DecoratorController on PVCBackups whose sync hook only sets labels that
// say which PVC a backup is of, whether it has finished, whether it ran a prune or check and
// whether it is retired. Labels are what Metacontroller can select objects by, so hooks read only
// the backups a decision needs (the gate the unfinished ones, the scheduler one PVC's maintenance
// records), and retired backups are synced by no controller at all, this one included.
import { FINISHED_LABEL, MAINTENANCE_LABEL, PVC_LABEL, RETIRED_LABEL } from '../labels.ts';
import { isRetired } from '../run/lifecycle.ts';
import type { HookResult } from '../metacontroller/hook.ts';
import type { DecoratorSyncRequest, DecoratorSyncResponse } from '../metacontroller/types.ts';
import { shortHash } from '../names.ts';
import { backupPvc, type PVCBackup } from './types.ts';

/** The value of PVC_LABEL for a PVC name (a label value holds at most 63 characters). */
export function pvcLabelValue(pvc: string): string {
  return pvc.length <= 63 ? pvc : `${pvc.slice(0, 46)}-${shortHash(pvc, 16)}`;
}

export function syncBackupLabels(request: DecoratorSyncRequest<PVCBackup>): HookResult<DecoratorSyncResponse> {
  const backup = request.object;
  const pvc = backupPvc(backup);
  const wanted: Record<string, string | null> = {
    [PVC_LABEL]: pvc === undefined || pvc === '' ? null : pvcLabelValue(pvc),
    [FINISHED_LABEL]: backup.status?.result === undefined ? null : 'true',
    [MAINTENANCE_LABEL]: backup.status?.maintenance === undefined ? null : 'true',
    [RETIRED_LABEL]: isRetired(backup.status) ? 'true' : null,
  };
  // Only what differs, so an unchanged backup is never written (each write is a sync of it).
  const current = backup.metadata.labels ?? {};
  const labels = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => (value === null ? key in current : current[key] !== value)));
  const response: DecoratorSyncResponse = { attachments: [], ...(Object.keys(labels).length > 0 ? { labels } : {}) };
  return { response, decision: { reason: Object.keys(labels).length > 0 ? 'Labelled' : 'UpToDate' } };
}
