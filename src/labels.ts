// Label and annotation keys. The `backsnap.skyb.it/schedule` and `.../restoring` annotations are
// backsnap's and keep their meaning.
export const SCHEDULE_ANNOTATION = 'backsnap.skyb.it/schedule';
export const RESTORING_ANNOTATION = 'backsnap.skyb.it/restoring';
/** On a Namespace: comma-separated namespaces (or `*`) allowed to restore its backups. */
export const ALLOW_RESTORE_TO_ANNOTATION = 'backsnap.skyb.it/allow-restore-to';
/** On every child of a run: when the run started (RFC 3339), so a sync that observes a stale parent still knows. */
export const STARTED_AT_ANNOTATION = 'backsnap.skyb.it/started-at';
/**
 * On a child made before its run starts (a backup's VolumeSnapshot, taken while it waits for a
 * slot): observing it does not mean the run has started. It never carries STARTED_AT_ANNOTATION.
 */
export const AHEAD_OF_START_ANNOTATION = 'backsnap.skyb.it/ahead-of-start';
/** On Job pods: the UID of the PVCBackup/PVCRestore, so the hooks can find the pods. */
export const RUN_UID_LABEL = 'backsnap.skyb.it/run-uid';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'backsnap-ts', 'app.kubernetes.io/part-of': 'backsnap' } as const;
/** On automatic PVCBackups: the schedule slot (RFC 3339) the backup is for. */
export const SCHEDULED_FOR_ANNOTATION = 'backsnap.skyb.it/scheduled-for';
/** On PVCs: the latest slot a backup was created for (the scheduler's only memory). */
export const LAST_SCHEDULED_ANNOTATION = 'backsnap.skyb.it/last-scheduled';
/** On PVCs: why the schedule cannot be used (an invalid cron expression). */
export const SCHEDULE_ERROR_ANNOTATION = 'backsnap.skyb.it/schedule-error';
/** On automatic PVCBackups. */
export const AUTOMATIC_LABEL = 'backsnap.skyb.it/automatic';
/** On temporary backup PVCs, so the scheduler's DecoratorController never selects them. */
export const TEMPORARY_LABEL = 'backsnap.skyb.it/temporary';
/** Metacontroller's marker of a DecoratorController's attachments. */
export const DECORATOR_ANNOTATION = 'metacontroller.k8s.io/decorator-controller';
/** Name of the scheduler's DecoratorController (metacontroller/pvc-scheduler.yaml). */
export const SCHEDULER_CONTROLLER = 'backsnap-scheduler';
/** On a PVC or Namespace: the retention policy of its repositories (src/retention/policy.ts). */
export const RETENTION_ANNOTATION = 'backsnap.skyb.it/retention';
/** On PVCs, set by the scheduler: the last prune and check of the PVC's repository (`<RFC 3339> <result>[: message]`). */
export const LAST_PRUNE_ANNOTATION = 'backsnap.skyb.it/last-prune';
export const LAST_CHECK_ANNOTATION = 'backsnap.skyb.it/last-check';
/** On PVCs, set by the scheduler: why the retention policy cannot be used. */
export const RETENTION_ERROR_ANNOTATION = 'backsnap.skyb.it/retention-error';
/** On backup and restore Jobs: which repository they open (a hash of `<namespace>/<pvc>`). */
export const REPOSITORY_LABEL = 'backsnap.skyb.it/repository';
/** On backup Jobs: their BackupPlan (retention, prune, check) as JSON. */
export const PLAN_ANNOTATION = 'backsnap.skyb.it/plan';
/** On PVCBackups, set by the labeler: the PVC they back up (hashed when longer than a label value). */
export const PVC_LABEL = 'backsnap.skyb.it/pvc';
/** On PVCBackups, set by the labeler once they have a result. */
export const FINISHED_LABEL = 'backsnap.skyb.it/finished';
/**
 * On PVCBackups, set by the labeler once their status says `Retired`: Metacontroller's PVCBackup
 * controller and the labeler select only backups without it, so history costs them no syncs.
 */
export const RETIRED_LABEL = 'backsnap.skyb.it/retired';
/** On PVCBackups, set by the labeler once their status records a prune or check. */
export const MAINTENANCE_LABEL = 'backsnap.skyb.it/maintenance';
/** On the backup queue's tickets: `volume` (one per PVC), `slot` (one of the cluster-wide limit) or `admitted` (one per backup). */
export const TICKET_LABEL = 'backsnap.skyb.it/ticket';
/** Name of the backup queue's DecoratorController (metacontroller/backup-queue.yaml). */
export const BACKUP_QUEUE_CONTROLLER = 'backsnap-backup-queue';
