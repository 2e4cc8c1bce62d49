import { Type, type Static } from '@sinclair/typebox';
import { GoDuration, ObjectName, RunPhase, podPlacementFields, runStatusFields } from './common.ts';

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

export const PVCBackupStatusSchema = Type.Object({
  ...runStatusFields(RunPhase),
  statistics: Type.Optional(BackupStatisticsSchema),
});
export type PVCBackupStatus = Static<typeof PVCBackupStatusSchema>;
