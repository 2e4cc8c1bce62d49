import { Type, type Static } from '@sinclair/typebox';
import { GoDuration, NamespaceName, ObjectName, Quantity, RunPhase, podPlacementFields, runStatusFields } from './common.ts';

export const PVCRestoreSpecSchema = Type.Object({
  sourcePvc: Type.Optional(ObjectName('Name of the PVC whose backups are restored; it need not exist any more.')),
  sourceNamespace: Type.Optional(
    NamespaceName('Namespace of the source PVC (default: this namespace). It must allow restores into this namespace.'),
  ),
  sourceSnapshot: Type.Optional(
    Type.String({ description: 'restic snapshot to restore: an id or `latest` (default).', minLength: 1, pattern: '^[A-Za-z0-9]+$' }),
  ),
  restoreAsOf: Type.Optional(
    Type.String({ format: 'date-time', description: 'backsnap-ts extension: restore the newest snapshot taken at or before this time (RFC 3339); instead of sourceSnapshot.' }),
  ),
  targetPvc: Type.Optional(ObjectName('PVC to create and restore into (default: sourcePvc). It must not exist yet.')),
  targetPvcSize: Type.Optional(Quantity('Size of the new PVC (default: the size of the source PVC if it still exists).')),
  ttl: Type.Optional(GoDuration('backsnap-ts extension: delete this PVCRestore (never its PVC) this long after it finished.')),
  ...podPlacementFields('restore'),
});
export type PVCRestoreSpec = Static<typeof PVCRestoreSpecSchema>;

export const RestoreStatisticsSchema = Type.Object(
  {
    totalFiles: Type.Integer({ format: 'int64' }),
    filesRestored: Type.Integer({ format: 'int64' }),
    totalBytes: Type.Integer({ format: 'int64' }),
    bytesRestored: Type.Integer({ format: 'int64' }),
  },
  { description: "restic's summary of the restore." },
);
export type RestoreStatistics = Static<typeof RestoreStatisticsSchema>;

export const PVCRestoreStatusSchema = Type.Object({
  ...runStatusFields(RunPhase),
  statistics: Type.Optional(RestoreStatisticsSchema),
});
export type PVCRestoreStatus = Static<typeof PVCRestoreStatusSchema>;
