// The PVCBackup sync hook: what a backup adds to the shared run lifecycle (src/run/lifecycle.ts).
//
//   Pending ──slot──▶ Running: Secret + VolumeSnapshot ─ready─▶ + temporary PVC + Job ─Complete─▶ Succeeded (children dropped)
//                       │ snapshot timeout, Job Failed, deadline, source PVC gone ──────────────────▶ Failed (Job kept for its logs)
//
// A backup next in line (holding its PVC's volume ticket, src/backup/admission.ts) takes its
// VolumeSnapshot while it waits for a slot, so that the snapshot, the slowest step of the control
// plane, is usually ready when it starts: then its first Running sync creates all four children
// (BACKSNAP_SNAPSHOT_AHEAD, on by default).
import type { Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import type { ConfigMap, Job, Namespace, PersistentVolumeClaim, Pod, VolumeSnapshot } from '../kube/types.ts';
import { secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import { findObject, identitiesOf, objectsOf } from '../metacontroller/objects.ts';
import type { CompositeSyncRequest, CompositeSyncResponse } from '../metacontroller/types.ts';
import { COLLECTING, jobOutcome, lostMessage } from '../restic/job-outcome.ts';
import { syncRun, type RunContext, type RunDefinition, type Step } from '../run/lifecycle.ts';
import { failureReason, type RunState } from '../run/status.ts';
import { API_VERSION } from '../schema/crds.ts';
import { PVCBackupSpecSchema } from '../schema/pvcbackup.ts';
import { validator } from '../schema/validate.ts';
import type { Maintenance } from '../restic/results.ts';
import type { ExtraCondition } from '../run/status.ts';
import { backupChildName, backupJob, backupSecret, temporaryPvc, volumeSnapshot, volumeSnapshotAheadOfStart, type BackupPlan, type BackupRun, type BackupTarget } from './children.ts';
import { backupPlan } from './plan.ts';
import { admissionTicketName, ticketHolder, volumeTicketName } from './admission.ts';
import { claimSlot } from './queue.ts';
import type { PVCBackup, PVCBackupSpec, PVCBackupStatus } from './types.ts';

export type BackupSyncRequest = CompositeSyncRequest<PVCBackup>;
export type BackupSyncResponse = CompositeSyncResponse<PVCBackupStatus>;
type BackupStep = Step<PVCBackupStatus>;
type Context = RunContext<PVCBackup>;

const validateSpec = validator<PVCBackupSpec>(PVCBackupSpecSchema, 'spec');
/** How often a waiting or running backup is looked at even without events. */
const POLL_SECONDS = 30;
/**
 * How often a backup waiting for its slot is looked at without events. Its ticket (or a change of
 * a backup of its PVC) is a related object, so its arrival syncs the backup at once; a short poll
 * would only re-sync every waiting backup of a busy slot for nothing.
 */
const SLOT_POLL_SECONDS = 300;
/**
 * The temporary PVC and Job are only created before the snapshot deadline, and the timeout is
 * only decided this long after it: a sync that lags behind their creation cannot fail a backup
 * whose Job exists, and one that fails it cannot be followed by one that starts the Job.
 */
const DEADLINE_SETTLE_MS = 10_000;

interface Observed {
  snapshot: VolumeSnapshot | undefined;
  temporaryPvc: PersistentVolumeClaim | undefined;
  job: Job | undefined;
  sourcePvc: PersistentVolumeClaim | undefined;
  namespace: Namespace | undefined;
  backups: PVCBackup[];
  repositoryJobs: Job[];
  pods: Pod[];
}

function observeBackup(target: BackupTarget, context: Context): Observed {
  const { children, related } = context.observed;
  const name = backupChildName(target.name);
  return {
    snapshot: findObject<VolumeSnapshot>(children, 'VolumeSnapshot', 'snapshot.storage.k8s.io/v1', target.namespace, name),
    temporaryPvc: findObject<PersistentVolumeClaim>(children, 'PersistentVolumeClaim', 'v1', target.namespace, name),
    job: findObject<Job>(children, 'Job', 'batch/v1', target.namespace, name),
    sourcePvc: findObject<PersistentVolumeClaim>(related, 'PersistentVolumeClaim', 'v1', target.namespace, target.spec.pvc),
    namespace: findObject<Namespace>(related, 'Namespace', 'v1', undefined, target.namespace),
    backups: objectsOf<PVCBackup>(related, 'PVCBackup', API_VERSION),
    repositoryJobs: objectsOf<Job>(related, 'Job', 'batch/v1'),
    pods: objectsOf<Pod>(related, 'Pod', 'v1'),
  };
}

function planOf(target: BackupTarget, observed: Observed, config: Config, now: Date): BackupPlan {
  return backupPlan({ target, job: observed.job, sourcePvc: observed.sourcePvc, namespace: observed.namespace, backups: observed.backups, repositoryJobs: observed.repositoryJobs }, config, now);
}

function failed(reason: string, message: string, at: Date): BackupStep {
  return { kind: 'finish', result: 'Failed', reason, message, at };
}

/** A source PVC problem waits out the start grace (informer lag, a PVC created just now), then fails. */
function sourceProblem(source: PersistentVolumeClaim | undefined, pvc: string): { reason: string; message: string; permanent: boolean } | undefined {
  if (source === undefined) return { reason: 'SourcePVCNotFound', message: `PVC ${pvc} does not exist in this namespace`, permanent: false };
  if (source.metadata.deletionTimestamp !== undefined) return { reason: 'SourcePVCDeleting', message: `PVC ${pvc} is being deleted`, permanent: true };
  if (source.status?.phase !== 'Bound') {
    return { reason: 'SourcePVCNotBound', message: `PVC ${pvc} is ${source.status?.phase ?? 'not bound'}; only a bound volume can be snapshotted`, permanent: false };
  }
  if ((source.spec.volumeMode ?? 'Filesystem') !== 'Filesystem') {
    return { reason: 'UnsupportedVolumeMode', message: `PVC ${pvc} has volumeMode ${source.spec.volumeMode}; only Filesystem volumes can be backed up`, permanent: true };
  }
  return undefined;
}

function start(target: BackupTarget, context: Context): BackupStep {
  const { observed, config, now } = context;
  const run: BackupRun = { ...target, startedAt: context.startedAt };
  const created = parseTime(observed.parent.metadata.creationTimestamp)?.getTime() ?? now.getTime();
  const observedChildren = observeBackup(target, context);
  const problem = sourceProblem(observedChildren.sourcePvc, target.spec.pvc);
  if (problem !== undefined) {
    const graceEnds = created + config.startGraceMs;
    if (problem.permanent) return failed(problem.reason, problem.message, now);
    if (now.getTime() >= graceEnds) return failed(problem.reason, problem.message, new Date(graceEnds));
    return { kind: 'wait', state: { phase: 'Pending', reason: problem.reason, message: problem.message }, resyncAfterSeconds: Math.min(10, secondsUntil(graceEnds, now)) };
  }
  const ticket = (name: string) => findObject<ConfigMap>(observed.related, 'ConfigMap', 'v1', target.namespace, name);
  const volume = ticket(volumeTicketName(target.spec.pvc));
  const slot = claimSlot(observed.parent, ticket(admissionTicketName(target.uid)), volume, config);
  if (slot.granted) return snapshotPhase(run, observedChildren, config, now);
  const waiting: RunState = { phase: 'Pending', reason: slot.reason, message: slot.message };
  if (!config.snapshotAhead || volume === undefined || ticketHolder(volume) !== target.uid) return { kind: 'wait', state: waiting, resyncAfterSeconds: SLOT_POLL_SECONDS };
  // Next in line: the PVC is this backup's alone (no other backup of it runs or takes a snapshot),
  // and the queue hands out at most one volume ticket per place ahead (admission.ts).
  const error = observedChildren.snapshot?.status?.error?.message;
  const ahead = error === undefined ? 'its VolumeSnapshot is taken ahead' : `its VolumeSnapshot, taken ahead, reports an error (retried until the snapshot timeout after the start): ${error}`;
  return {
    kind: 'prepare',
    state: { ...waiting, message: `${slot.message}; ${ahead}` },
    // An observed snapshot is kept as it is (every answer keeps the observed children).
    children: observedChildren.snapshot === undefined ? [volumeSnapshotAheadOfStart(target, config)] : [],
    resyncAfterSeconds: SLOT_POLL_SECONDS,
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

/** Before the temporary PVC and Job: wait for a usable snapshot, create them, or time out. */
function snapshotPhase(run: BackupRun, observed: Observed, config: Config, now: Date): BackupStep {
  const base = [backupSecret(run, config), volumeSnapshot(run, config)];
  const deadline = (parseTime(run.startedAt)?.getTime() ?? now.getTime()) + config.snapshotTimeoutMs;
  const ready = observed.snapshot?.status?.readyToUse === true;
  const size = temporaryVolumeSize(observed);
  const error = observed.snapshot?.status?.error?.message;
  if (ready && size !== undefined && now.getTime() < deadline) {
    const storageClassName = config.storageClass ?? observed.sourcePvc?.spec.storageClassName;
    return {
      kind: 'run',
      state: backupRunning(run),
      children: [...base, temporaryPvc(run, { size, storageClassName }), backupJob(run, config, planOf(run, observed, config, now))],
      resyncAfterSeconds: POLL_SECONDS * 10,
    };
  }
  const failsAt = deadline + DEADLINE_SETTLE_MS;
  if (now.getTime() >= failsAt) {
    if (ready && size === undefined) {
      return failed('SnapshotSizeUnknown', 'the VolumeSnapshot has no restoreSize and the source PVC is gone, so the temporary volume cannot be sized', new Date(deadline));
    }
    const why = error === undefined ? 'it was not ready to use in time' : `last error: ${error}`;
    return failed('SnapshotTimeout', `VolumeSnapshot of PVC ${run.spec.pvc} not ready after ${config.snapshotTimeoutMs / 1000}s; ${why}`, new Date(deadline));
  }
  const state: RunState =
    error === undefined
      ? snapshotPending(run)
      : { phase: 'Running', reason: 'SnapshotError', message: `VolumeSnapshot reports an error (retried until the snapshot timeout): ${error}` };
  return { kind: 'run', state, children: base, resyncAfterSeconds: secondsUntil(now.getTime() < deadline ? deadline : failsAt, now) };
}

function backupRunning(target: BackupTarget): RunState {
  return { phase: 'Running', reason: 'BackupRunning', message: `restic is backing up the snapshot of PVC ${target.spec.pvc}` };
}

function progress(target: BackupTarget, context: Context): BackupStep {
  const { config, now } = context;
  const run: BackupRun = { ...target, startedAt: context.startedAt };
  const observed = observeBackup(target, context);
  if (observed.temporaryPvc === undefined && observed.job === undefined) return snapshotPhase(run, observed, config, now);
  const plan = planOf(target, observed, config, now);

  // The temporary PVC and the Job are created together; one seen without the other is cache lag.
  const size = temporaryVolumeSize(observed);
  const storageClassName = config.storageClass ?? observed.temporaryPvc?.spec.storageClassName ?? observed.sourcePvc?.spec.storageClassName;
  const all = [
    backupSecret(run, config),
    volumeSnapshot(run, config),
    ...(size === undefined ? [] : [temporaryPvc(run, { size, storageClassName })]),
    backupJob(run, config, plan),
  ];
  const outcome = jobOutcome(observed.job, observed.pods, config, now);
  switch (outcome.kind) {
    case 'failed':
      return failed('JobFailed', `restic backup failed (${outcome.reason}): ${outcome.why}`, outcome.at);
    case 'collecting':
      return { kind: 'run', state: { phase: 'Running', ...COLLECTING }, children: all, resyncAfterSeconds: Math.min(5, secondsUntil(outcome.graceEnds, now)) };
    case 'complete': {
      if (outcome.report?.kind !== 'backup') {
        return { kind: 'finish', result: 'Succeeded', reason: 'Succeeded', message: "the Job completed; restic's summary was not found in its Pod", at: outcome.at };
      }
      const { snapshotId, statistics } = outcome.report;
      const message = `restic snapshot ${snapshotId.slice(0, 8)}: ${statistics.totalFilesProcessed} files, ${statistics.totalBytesProcessed} bytes, ${statistics.dataAddedBytes} bytes added`;
      const maintained = maintenanceFields(plan, outcome.report, outcome.at);
      return { kind: 'finish', result: 'Succeeded', reason: 'Succeeded', message, at: outcome.at, fields: { snapshotId, statistics, ...maintained.fields }, conditions: maintained.conditions };
    }
    case 'lost':
      // The Job controller should have failed it at activeDeadlineSeconds; retiring deletes it.
      return failed('DeadlineExceeded', lostMessage(config), outcome.at);
    case 'absent':
    case 'running':
      return {
        kind: 'run',
        state: backupRunning(target),
        children: all,
        resyncAfterSeconds: outcome.kind === 'running' ? Math.min(POLL_SECONDS * 10, secondsUntil(outcome.lostAt, now)) : POLL_SECONDS * 10,
      };
  }
}

/** What the plan and the Job's report say about retention, prune and check, for the status. */
function maintenanceFields(plan: BackupPlan, report: Maintenance, at: Date): { fields: Partial<PVCBackupStatus>; conditions: ExtraCondition[] } {
  const { policy, source, error } = plan.retention;
  const retention: NonNullable<PVCBackupStatus['retention']> = { policy, source };
  if (error !== undefined) retention.error = error;
  else if (report.retention !== undefined && 'error' in report.retention) retention.error = `restic forget failed: ${report.retention.error}`;
  else if (report.retention !== undefined) {
    retention.kept = report.retention.kept;
    retention.removed = report.retention.removed;
    if (report.retention.oldest !== undefined) retention.oldestKept = report.retention.oldest;
  }
  const maintenance: NonNullable<PVCBackupStatus['maintenance']> = {};
  const when = formatTime(at);
  for (const kind of ['prune', 'check'] as const) {
    const ran = report[kind];
    if (ran === undefined) continue;
    maintenance[kind] = 'error' in ran ? { at: when, result: 'Failed', message: ran.error } : { at: when, result: 'Succeeded' };
  }
  const conditions: ExtraCondition[] = [];
  if (maintenance.check !== undefined) {
    conditions.push(
      maintenance.check.result === 'Failed'
        ? { type: 'RepositoryHealthy', status: 'False', reason: 'RepositoryDamaged', message: `restic check failed; forget and prune were skipped: ${maintenance.check.message ?? ''}` }
        : { type: 'RepositoryHealthy', status: 'True', reason: 'CheckPassed', message: `restic check read ${plan.check ?? ''} of the data` },
    );
  }
  if (retention.error !== undefined) conditions.push({ type: 'RetentionApplied', status: 'False', reason: error !== undefined ? 'InvalidRetentionPolicy' : 'ForgetFailed', message: retention.error });
  return { fields: { retention, ...(Object.keys(maintenance).length > 0 ? { maintenance } : {}) }, conditions };
}

const backupDefinition: RunDefinition<PVCBackup, BackupTarget, PVCBackupStatus> = {
  what: 'backup',
  plan(parent) {
    const validation = validateSpec(parent.spec);
    if (!validation.ok) return { ok: false, message: validation.message };
    return { ok: true, plan: { name: parent.metadata.name, namespace: parent.metadata.namespace ?? '', uid: parent.metadata.uid ?? '', spec: validation.value } };
  },
  start,
  progress,
  // A failed backup keeps its Job and Pods for their logs until the PVCBackup goes, unless the
  // Job ran past its deadline (it is stopped by deleting it). Everything else is dropped.
  retained(status, children) {
    if (status.result !== 'Failed' || failureReason(status) === 'DeadlineExceeded') return [];
    return identitiesOf(children, 'Job', 'batch/v1');
  },
  // Backups pile up as history (a week of them per PVC by default), so Metacontroller stops
  // syncing the retired ones (metacontroller/pvcbackup-controller.yaml). Restores do not.
  marksRetired: true,
};

export function syncBackup(request: BackupSyncRequest, config: Config, now: Date): HookResult<BackupSyncResponse> {
  return syncRun(backupDefinition, request, config, now);
}
