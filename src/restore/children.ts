// Literal factories of the objects a PVCRestore owns.
import type { Config } from '../config.ts';
import type { Job, Labels, Namespace, PersistentVolumeClaim, Secret } from '../kube/types.ts';
import { MANAGED_BY, REPOSITORY_LABEL, RESTORING_ANNOTATION, STARTED_AT_ANNOTATION } from '../labels.ts';
import { boundedName } from '../names.ts';
import { credentialsSecret, repositoryLabel } from '../restic/credentials.ts';
import { placementOf, resticJob } from '../restic/job.ts';
import { RESTORE_SCRIPT } from '../restic/scripts.ts';
import type { RestorePlan } from './types.ts';

/** A restore that has started, at `startedAt` (RFC 3339). */
export interface RestoreRun extends RestorePlan {
  startedAt: string;
}

/** Name of the restore Job and its Secret: `restore-<PVCRestore name>`, hash-truncated to 63 characters. */
export function restoreChildName(restoreName: string): string {
  return boundedName(['restore', restoreName]);
}

function labels(plan: RestoreRun): Labels {
  return { ...(plan.spec.labels ?? {}), ...MANAGED_BY, 'app.kubernetes.io/component': 'restore' };
}

function annotations(plan: RestoreRun): Labels {
  return { ...(plan.spec.annotations ?? {}), [RESTORING_ANNOTATION]: plan.uid, [STARTED_AT_ANNOTATION]: plan.startedAt };
}

export function restoreSecret(plan: RestoreRun, config: Config): Secret {
  const repository = { namespace: plan.sourceNamespace, pvc: plan.sourcePvc };
  return credentialsSecret(restoreChildName(plan.name), plan.namespace, labels(plan), annotations(plan), repository, config);
}

export interface TargetVolume {
  size: string;
  accessModes: string[];
}

/**
 * The restored volume. Besides the controller reference Metacontroller adds, it is owned by its
 * Namespace, so the garbage collector keeps it when the PVCRestore is deleted.
 */
export function targetPvc(plan: RestoreRun, volume: TargetVolume, namespace: Namespace, config: Config): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: plan.targetPvc,
      namespace: plan.namespace,
      labels: labels(plan),
      annotations: annotations(plan),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: namespace.metadata.name, uid: namespace.metadata.uid ?? '' }],
    },
    spec: {
      accessModes: volume.accessModes,
      ...(config.storageClass === undefined ? {} : { storageClassName: config.storageClass }),
      volumeMode: 'Filesystem',
      resources: { requests: { storage: volume.size } },
    },
  };
}

export function restoreJob(plan: RestoreRun, config: Config): Job {
  const name = restoreChildName(plan.name);
  return resticJob(
    {
      name,
      namespace: plan.namespace,
      runUid: plan.uid,
      // So a prune of the source repository waits while this restore reads it.
      labels: { ...labels(plan), [REPOSITORY_LABEL]: repositoryLabel({ namespace: plan.sourceNamespace, pvc: plan.sourcePvc }) },
      annotations: annotations(plan),
      placement: placementOf(plan.spec),
      script: RESTORE_SCRIPT,
      env: { BACKUP_NAMESPACE: plan.sourceNamespace, BACKUP_VOLUME: plan.sourcePvc, SOURCE_SNAPSHOT: plan.sourceSnapshot, RESTORE_AS_OF: plan.restoreAsOf ?? '' },
      secretName: name,
      claimName: plan.targetPvc,
      readOnly: false,
      // Writing files of any owner and restoring their ownership and modes.
      capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'],
    },
    config,
  );
}
