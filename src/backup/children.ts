// Literal factories of the objects a PVCBackup owns while it runs.
import type { Config } from '../config.ts';
import type { Labels, Job, PersistentVolumeClaim, Secret, VolumeSnapshot } from '../kube/types.ts';
import { AHEAD_OF_START_ANNOTATION, MANAGED_BY, PLAN_ANNOTATION, REPOSITORY_LABEL, SCHEDULE_ANNOTATION, STARTED_AT_ANNOTATION, TEMPORARY_LABEL } from '../labels.ts';
import { boundedName } from '../names.ts';
import { BACKUP_SCRIPT } from '../restic/scripts.ts';
import { credentialsSecret, repositoryLabel } from '../restic/credentials.ts';
import { placementOf, resticJob } from '../restic/job.ts';
import type { PVCBackupSpec } from './types.ts';

/** One name for all children: `backup-<PVCBackup name>`, hash-truncated to 63 characters. */
export function backupChildName(backupName: string): string {
  return boundedName(['backup', backupName]);
}

export interface BackupTarget {
  name: string;
  namespace: string;
  uid: string;
  spec: PVCBackupSpec;
}

/** A backup that has started, at `startedAt` (RFC 3339). */
export interface BackupRun extends BackupTarget {
  startedAt: string;
}

function labels(target: BackupTarget): Labels {
  return { ...(target.spec.labels ?? {}), ...MANAGED_BY, 'app.kubernetes.io/component': 'backup' };
}

/** The spec's annotations, without the marker of a snapshot taken ahead: only the hook sets that. */
function userAnnotations(target: BackupTarget): Labels {
  const given: Labels = { ...(target.spec.annotations ?? {}) };
  delete given[AHEAD_OF_START_ANNOTATION];
  return given;
}

function annotations(target: BackupRun): Labels {
  return { ...userAnnotations(target), [STARTED_AT_ANNOTATION]: target.startedAt };
}

export function backupSecret(target: BackupRun, config: Config): Secret {
  const repository = { namespace: target.namespace, pvc: target.spec.pvc };
  return credentialsSecret(backupChildName(target.name), target.namespace, labels(target), annotations(target), repository, config);
}

export function volumeSnapshot(target: BackupRun, config: Config): VolumeSnapshot {
  return snapshotOf(target, config, annotations(target));
}

/**
 * The same snapshot taken while the backup waits for a slot, so that it is ready when the backup
 * starts. Children are never updated (OnDelete), so it keeps this marker, and no start time.
 */
export function volumeSnapshotAheadOfStart(target: BackupTarget, config: Config): VolumeSnapshot {
  return snapshotOf(target, config, { ...userAnnotations(target), [AHEAD_OF_START_ANNOTATION]: 'true' });
}

function snapshotOf(target: BackupTarget, config: Config, annotations: Labels): VolumeSnapshot {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: backupChildName(target.name), namespace: target.namespace, labels: labels(target), annotations },
    spec: {
      source: { persistentVolumeClaimName: target.spec.pvc },
      ...(config.snapshotClass === undefined ? {} : { volumeSnapshotClassName: config.snapshotClass }),
    },
  };
}

export interface TemporaryVolume {
  size: string;
  storageClassName: string | undefined;
}

/** The snapshot as a volume the Job can mount; never scheduled for backup itself. */
export function temporaryPvc(target: BackupRun, volume: TemporaryVolume): PersistentVolumeClaim {
  const name = backupChildName(target.name);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: target.namespace,
      labels: { ...labels(target), [TEMPORARY_LABEL]: 'true' },
      annotations: { ...annotations(target), [SCHEDULE_ANNOTATION]: '' },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(volume.storageClassName === undefined ? {} : { storageClassName: volume.storageClassName }),
      volumeMode: 'Filesystem',
      resources: { requests: { storage: volume.size } },
      dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name },
    },
  };
}

/**
 * What the backup Job does besides the backup, decided when it is created and kept on it (the
 * annotation), so every later sync reports what the Job was actually told.
 */
export interface BackupPlan {
  retention: { policy: string; source: 'pvc' | 'namespace' | 'default'; flags: string[]; error?: string };
  prune: boolean;
  /** `--read-data-subset` of a check, when one is due. */
  check?: string;
  /** Remove every lock before check, forget and prune (they lock exclusively): no other run of the repository is going. */
  unlockAll: boolean;
}

export function backupJob(target: BackupRun, config: Config, plan: BackupPlan): Job {
  const name = backupChildName(target.name);
  return resticJob(
    {
      name,
      namespace: target.namespace,
      runUid: target.uid,
      labels: { ...labels(target), [REPOSITORY_LABEL]: repositoryLabel({ namespace: target.namespace, pvc: target.spec.pvc }) },
      annotations: { ...annotations(target), [PLAN_ANNOTATION]: JSON.stringify(plan) },
      placement: placementOf(target.spec),
      script: BACKUP_SCRIPT,
      env: {
        BACKUP_NAMESPACE: target.namespace,
        BACKUP_VOLUME: target.spec.pvc,
        RETENTION_FLAGS: plan.retention.flags.join(' '),
        PRUNE: plan.prune ? '1' : '',
        CHECK_SUBSET: plan.check ?? '',
        UNLOCK_ALL: plan.unlockAll ? '1' : '',
      },
      secretName: name,
      claimName: name,
      readOnly: true,
      capabilities: ['DAC_READ_SEARCH'],
    },
    config,
  );
}
