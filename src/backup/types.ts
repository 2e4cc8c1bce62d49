import { specString } from '../kube/meta.ts';
import type { KubeObject } from '../kube/types.ts';
import type { PVCBackupSpec, PVCBackupStatus } from '../schema/pvcbackup.ts';

export interface PVCBackup extends KubeObject {
  apiVersion: 'backsnap.skyb.it/v1alpha1';
  kind: 'PVCBackup';
  /** Unvalidated as stored: the hook validates it before use. */
  spec?: unknown;
  status?: PVCBackupStatus;
}

export type { PVCBackupSpec, PVCBackupStatus };

/** The PVC a stored PVCBackup names, if its spec has one. */
export function backupPvc(backup: PVCBackup): string | undefined {
  return specString(backup.spec, 'pvc');
}

/** The PVCBackups of each PVC, by `namespace/pvc`: one pass, not one per PVC. */
export function backupsByPvc(backups: readonly PVCBackup[]): Map<string, PVCBackup[]> {
  const byPvc = new Map<string, PVCBackup[]>();
  for (const b of backups) {
    const pvc = backupPvc(b);
    if (pvc === undefined) continue;
    const key = `${b.metadata.namespace}/${pvc}`;
    const list = byPvc.get(key);
    if (list === undefined) byPvc.set(key, [b]);
    else list.push(b);
  }
  return byPvc;
}
