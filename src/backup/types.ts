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
