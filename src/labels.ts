// Label and annotation keys. The `backsnap.skyb.it/schedule` and `.../restoring` annotations are
// backsnap's and keep their meaning.
export const SCHEDULE_ANNOTATION = 'backsnap.skyb.it/schedule';
export const RESTORING_ANNOTATION = 'backsnap.skyb.it/restoring';
/** On a Namespace: comma-separated namespaces (or `*`) allowed to restore its backups. */
export const ALLOW_RESTORE_TO_ANNOTATION = 'backsnap.skyb.it/allow-restore-to';
/** On Job pods: the UID of the PVCBackup/PVCRestore, so the hooks can find the pods. */
export const RUN_UID_LABEL = 'backsnap.skyb.it/run-uid';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'backsnap-ts', 'app.kubernetes.io/part-of': 'backsnap' } as const;
