import { Type, type Static } from '@sinclair/typebox';
import { GoDuration, ObjectName, RunPhase, StringEnum, podPlacementFields, runStatusFields } from './common.ts';

export const PVCBackupSpecSchema = Type.Object(
  {
    pvc: ObjectName('Name of the PersistentVolumeClaim to back up, in the namespace of this PVCBackup.'),
    ttl: Type.Optional(
      GoDuration('How long to keep this PVCBackup after it finished (e.g. 72h). The newest successful backup of a PVC is always kept.'),
    ),
    ...podPlacementFields('backup'),
  },
);
export type PVCBackupSpec = Static<typeof PVCBackupSpecSchema>;

export const BackupStatisticsSchema = Type.Object(
  {
    filesNew: Type.Integer({ format: 'int64' }),
    filesChanged: Type.Integer({ format: 'int64' }),
    filesUnmodified: Type.Integer({ format: 'int64' }),
    dataAddedBytes: Type.Integer({ format: 'int64', description: 'Bytes restic added to the repository.' }),
    totalFilesProcessed: Type.Integer({ format: 'int64' }),
    totalBytesProcessed: Type.Integer({ format: 'int64', description: 'Size of the backed-up data.' }),
  },
  { description: "restic's summary of the backup." },
);
export type BackupStatistics = Static<typeof BackupStatisticsSchema>;

export const RetentionStatusSchema = Type.Object(
  {
    policy: Type.String({ description: 'The retention policy applied, e.g. last=1,daily=7 (as written, when invalid).' }),
    source: StringEnum(['pvc', 'namespace', 'default'], 'Where the policy came from: the PVC annotation, the Namespace annotation, or the operator.'),
    kept: Type.Optional(Type.Integer({ format: 'int64', description: "Snapshots of the PVC kept after this backup's forget: its restore points." })),
    removed: Type.Optional(Type.Integer({ format: 'int64', description: 'Snapshots forget removed.' })),
    oldestKept: Type.Optional(Type.String({ description: 'Time of the oldest snapshot kept (as restic reports it).' })),
    error: Type.Optional(Type.String({ description: 'Why nothing was forgotten: an invalid policy, or restic\'s error.' })),
  },
  { description: 'What the retention policy kept and removed after this backup.' },
);
export type RetentionStatus = Static<typeof RetentionStatusSchema>;

export const MaintenanceRunSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  result: StringEnum(['Succeeded', 'Failed']),
  message: Type.Optional(Type.String()),
});
export type MaintenanceRun = Static<typeof MaintenanceRunSchema>;

export const PVCBackupStatusSchema = Type.Object({
  ...runStatusFields(RunPhase),
  statistics: Type.Optional(BackupStatisticsSchema),
  retention: Type.Optional(RetentionStatusSchema),
  maintenance: Type.Optional(
    Type.Object(
      { prune: Type.Optional(MaintenanceRunSchema), check: Type.Optional(MaintenanceRunSchema) },
      { description: 'The repository maintenance this backup ran: restic prune and check, on their own cadence.' },
    ),
  ),
});
export type PVCBackupStatus = Static<typeof PVCBackupStatusSchema>;
