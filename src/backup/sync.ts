// The PVCBackup sync hook: a pure state machine from the observed PVCBackup, its children and
// related objects to the desired children and status.
//
//   Pending ──slot──▶ Running: VolumeSnapshot ─ready─▶ + temporary PVC + Job ─Complete─▶ Succeeded (children dropped)
//                       │ snapshot timeout, Job Failed, deadline, source PVC gone ──────▶ Failed (Job kept for its logs)
import { namespaceInScope, type Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import type { Job, PersistentVolumeClaim, Pod, VolumeSnapshot } from '../kube/types.ts';
import { retainObserved, secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import { findObject, objectsOf } from '../metacontroller/objects.ts';
import type { CompositeSyncRequest, CompositeSyncResponse } from '../metacontroller/types.ts';
import { COLLECTING, jobOutcome, lostMessage } from '../restic/job-outcome.ts';
import { API_VERSION } from '../schema/crds.ts';
import { PVCBackupSpecSchema } from '../schema/pvcbackup.ts';
import { validator } from '../schema/validate.ts';
import { STARTED_BY_BACKSNAP, recordedState, runResponse, startedByBacksnap, type Outcome as RunOutcome } from '../run.ts';
import { finishFields, type RunState } from '../status.ts';
import { backupChildName, backupJob, backupSecret, temporaryPvc, volumeSnapshot, type BackupTarget } from './children.ts';
import { claimSlot } from './queue.ts';
import type { PVCBackup, PVCBackupSpec, PVCBackupStatus } from './types.ts';

export type BackupSyncRequest = CompositeSyncRequest<PVCBackup>;
export type BackupSyncResponse = CompositeSyncResponse<PVCBackupStatus>;

const validateSpec = validator<PVCBackupSpec>(PVCBackupSpecSchema, 'spec');
/** How often a waiting or running backup is looked at even without events. */
const POLL_SECONDS = 30;

interface Observed {
  backup: PVCBackup;
  snapshot: VolumeSnapshot | undefined;
  temporaryPvc: PersistentVolumeClaim | undefined;
  job: Job | undefined;
  sourcePvc: PersistentVolumeClaim | undefined;
  pods: Pod[];
  otherBackups: PVCBackup[];
}

function observe(request: BackupSyncRequest, sourcePvcName: string | undefined): Observed {
  const { parent, children, related } = request;
  const ns = parent.metadata.namespace ?? '';
  const name = backupChildName(parent.metadata.name);
  return {
    backup: parent,
    snapshot: findObject<VolumeSnapshot>(children, 'VolumeSnapshot', 'snapshot.storage.k8s.io/v1', ns, name),
    temporaryPvc: findObject<PersistentVolumeClaim>(children, 'PersistentVolumeClaim', 'v1', ns, name),
    job: findObject<Job>(children, 'Job', 'batch/v1', ns, name),
    sourcePvc: sourcePvcName === undefined ? undefined : findObject<PersistentVolumeClaim>(related, 'PersistentVolumeClaim', 'v1', ns, sourcePvcName),
    pods: objectsOf<Pod>(related, 'Pod', 'v1'),
    otherBackups: objectsOf<PVCBackup>(related, 'PVCBackup', API_VERSION),
  };
}

type Outcome = RunOutcome<PVCBackupStatus>;

function respond(request: BackupSyncRequest, outcome: Outcome, now: Date): HookResult<BackupSyncResponse> {
  return runResponse(request.parent, outcome, now);
}

function fail(target: BackupTarget | undefined, observed: Observed, reason: string, message: string, config: Config, now: Date, keepJob = true): Outcome {
  // The failed Job and its Pods stay for their logs until the PVCBackup goes; the rest is dropped.
  const children = keepJob && observed.job !== undefined && target !== undefined ? [backupJob(target, config)] : [];
  return {
    state: { phase: 'Failed', reason, message },
    children,
    fields: finishFields(observed.backup.status?.startedAt, 'Failed', now),
  };
}

/** A source PVC problem waits out the start grace (informer lag, a PVC created just now), then fails. */
function sourceProblem(observed: Observed, pvc: string): { reason: string; message: string } | undefined {
  const source = observed.sourcePvc;
  if (source === undefined) return { reason: 'SourcePVCNotFound', message: `PVC ${pvc} does not exist in this namespace` };
  if (source.metadata.deletionTimestamp !== undefined) return { reason: 'SourcePVCDeleting', message: `PVC ${pvc} is being deleted` };
  if (source.status?.phase !== 'Bound') return { reason: 'SourcePVCNotBound', message: `PVC ${pvc} is ${source.status?.phase ?? 'not bound'}; only a bound volume can be snapshotted` };
  if ((source.spec.volumeMode ?? 'Filesystem') !== 'Filesystem') {
    return { reason: 'UnsupportedVolumeMode', message: `PVC ${pvc} has volumeMode ${source.spec.volumeMode}; only Filesystem volumes can be backed up` };
  }
  return undefined;
}

function start(target: BackupTarget, observed: Observed, config: Config, now: Date): Outcome {
  const created = parseTime(observed.backup.metadata.creationTimestamp)?.getTime() ?? now.getTime();
  const problem = sourceProblem(observed, target.spec.pvc);
  if (problem !== undefined) {
    const graceEnds = created + config.startGraceMs;
    const permanent = problem.reason === 'UnsupportedVolumeMode' || problem.reason === 'SourcePVCDeleting';
    if (permanent || now.getTime() >= graceEnds) return fail(target, observed, problem.reason, problem.message, config, now);
    return { state: { phase: 'Pending', ...problem }, children: [], resyncAfterSeconds: Math.min(10, secondsUntil(graceEnds, now)) };
  }
  const slot = claimSlot(observed.backup, observed.otherBackups, config);
  if (!slot.granted) {
    return { state: { phase: 'Pending', reason: slot.reason, message: slot.message }, children: [], resyncAfterSeconds: POLL_SECONDS };
  }
  return {
    state: snapshotPending(target),
    children: [backupSecret(target, config), volumeSnapshot(target, config)],
    fields: { startedAt: formatTime(now) },
    resyncAfterSeconds: Math.ceil(config.snapshotTimeoutMs / 1000),
  };
}

function snapshotPending(target: BackupTarget): RunState {
  return { phase: 'Running', reason: 'SnapshotPending', message: `waiting for the VolumeSnapshot of PVC ${target.spec.pvc} to become ready` };
}

function nonZero(quantity: string | undefined): string | undefined {
  return quantity === undefined || /^0+([a-zA-Z]*)$/.test(quantity) ? undefined : quantity;
}

function temporaryVolumeSize(observed: Observed): string | undefined {
  return (
    observed.temporaryPvc?.spec.resources?.requests?.['storage'] ??
    nonZero(observed.snapshot?.status?.restoreSize) ??
    observed.sourcePvc?.status?.capacity?.['storage'] ??
    observed.sourcePvc?.spec.resources?.requests?.['storage']
  );
}

function running(target: BackupTarget, observed: Observed, config: Config, now: Date): Outcome {
  const startedAt = parseTime(observed.backup.status?.startedAt)?.getTime() ?? now.getTime();
  const snapshotReady = observed.snapshot?.status?.readyToUse === true;
  const snapshotDeadline = startedAt + config.snapshotTimeoutMs;
  const base = [backupSecret(target, config), volumeSnapshot(target, config)];

  if (!snapshotReady && observed.temporaryPvc === undefined && observed.job === undefined) {
    const error = observed.snapshot?.status?.error?.message;
    if (now.getTime() >= snapshotDeadline) {
      const why = error === undefined ? 'it never became ready to use' : `last error: ${error}`;
      return fail(target, observed, 'SnapshotTimeout', `VolumeSnapshot of PVC ${target.spec.pvc} not ready after ${config.snapshotTimeoutMs / 1000}s; ${why}`, config, now);
    }
    return {
      state: error === undefined
        ? snapshotPending(target)
        : { phase: 'Running', reason: 'SnapshotError', message: `VolumeSnapshot reports an error (retried until the snapshot timeout): ${error}` },
      children: base,
      resyncAfterSeconds: secondsUntil(snapshotDeadline, now),
    };
  }

  const size = temporaryVolumeSize(observed);
  if (size === undefined) {
    return fail(target, observed, 'SnapshotSizeUnknown', 'the VolumeSnapshot has no restoreSize and the source PVC is gone, so the temporary volume cannot be sized', config, now);
  }
  const storageClassName = config.storageClass ?? observed.sourcePvc?.spec.storageClassName ?? observed.temporaryPvc?.spec.storageClassName;
  const all = [...base, temporaryPvc(target, { size, storageClassName }), backupJob(target, config)];
  const outcome = jobOutcome(observed.job, observed.pods, config, now);
  switch (outcome.kind) {
    case 'failed':
      return fail(target, observed, 'JobFailed', `restic backup failed (${outcome.reason}): ${outcome.why}`, config, now);
    case 'collecting':
      return { state: { phase: 'Running', ...COLLECTING }, children: all, resyncAfterSeconds: Math.min(5, secondsUntil(outcome.graceEnds, now)) };
    case 'complete': {
      const fields = finishFields(observed.backup.status?.startedAt, 'Succeeded', now);
      if (outcome.report?.kind !== 'backup') {
        return { state: { phase: 'Succeeded', reason: 'Succeeded', message: "the Job completed; restic's summary was not found in its Pod" }, children: [], fields };
      }
      const { snapshotId, statistics } = outcome.report;
      const message = `restic snapshot ${snapshotId.slice(0, 8)}: ${statistics.totalFilesProcessed} files, ${statistics.totalBytesProcessed} bytes, ${statistics.dataAddedBytes} bytes added`;
      return { state: { phase: 'Succeeded', reason: 'Succeeded', message }, children: [], fields: { ...fields, snapshotId, statistics } };
    }
    case 'lost':
      // The Job controller should have failed it at activeDeadlineSeconds; stop it ourselves.
      return fail(target, observed, 'DeadlineExceeded', lostMessage(config), config, now, false);
    case 'absent':
    case 'running':
      return {
        state: { phase: 'Running', reason: 'BackupRunning', message: `restic is backing up the snapshot of PVC ${target.spec.pvc}` },
        children: all,
        resyncAfterSeconds: outcome.kind === 'running' ? Math.min(POLL_SECONDS * 10, secondsUntil(outcome.lostAt, now)) : POLL_SECONDS * 10,
      };
  }
}

function finished(target: BackupTarget | undefined, observed: Observed, request: BackupSyncRequest, config: Config): Outcome {
  const status = observed.backup.status ?? {};
  const state = recordedState(status, 'backup');
  if (status.result === 'Succeeded') return { state, children: [] };
  if (observed.job === undefined) return { state, children: [] };
  return { state, children: target === undefined ? retainObserved({ 'Job.batch/v1': request.children['Job.batch/v1'] ?? {} }) : [backupJob(target, config)] };
}

export function syncBackup(request: BackupSyncRequest, config: Config, now: Date): HookResult<BackupSyncResponse> {
  const parent = request.parent;
  const validation = validateSpec(parent.spec);
  const target: BackupTarget | undefined = validation.ok
    ? { name: parent.metadata.name, namespace: parent.metadata.namespace ?? '', uid: parent.metadata.uid ?? '', spec: validation.value }
    : undefined;
  const observed = observe(request, target?.spec.pvc);

  if (parent.status?.result !== undefined) return respond(request, finished(target, observed, request, config), now);
  if (startedByBacksnap(parent.status)) return respond(request, fail(target, observed, STARTED_BY_BACKSNAP.reason, STARTED_BY_BACKSNAP.message, config, now), now);
  if (!validation.ok || target === undefined) {
    const message = validation.ok ? 'invalid spec' : `invalid spec: ${validation.message}`;
    const phase = parent.status?.startedAt === undefined ? 'Pending' : 'Running';
    return respond(request, { state: { phase, reason: 'InvalidSpec', message }, children: retainObserved(request.children) }, now);
  }
  if (parent.status?.startedAt === undefined) {
    if (!namespaceInScope(config, target.namespace)) {
      const message = `namespace ${target.namespace} is not in the operator's namespaces (BACKSNAP_NAMESPACES / BACKSNAP_EXCLUDE_NAMESPACES)`;
      return respond(request, { state: { phase: 'Pending', reason: 'NamespaceNotInScope', message }, children: retainObserved(request.children) }, now);
    }
    return respond(request, start(target, observed, config, now), now);
  }
  return respond(request, running(target, observed, config, now), now);
}
