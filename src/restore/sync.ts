// The PVCRestore sync hook: what a restore adds to the shared run lifecycle (src/run/lifecycle.ts).
//
//   Pending ─checks─▶ Running: Secret + target PVC + Job (restic restore) ─Complete─▶ Succeeded (the PVC stays, owned by its Namespace too)
//                        │ Job Failed, deadline ─────────────────────────────────────▶ Failed (PVC and Job kept)
//   checks: source namespace allows the restore, target PVC does not exist yet, size known.
import type { Config } from '../config.ts';
import { parseTime } from '../duration.ts';
import type { Job, Namespace, PersistentVolumeClaim, Pod } from '../kube/types.ts';
import { isOwnedBy } from '../kube/meta.ts';
import { ALLOW_RESTORE_TO_ANNOTATION } from '../labels.ts';
import { secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import { findObject, identitiesOf, objectsOf } from '../metacontroller/objects.ts';
import type { CompositeSyncRequest, CompositeSyncResponse } from '../metacontroller/types.ts';
import { COLLECTING, jobOutcome, lostMessage } from '../restic/job-outcome.ts';
import { syncRun, type RunContext, type RunDefinition, type Step } from '../run/lifecycle.ts';
import { failureReason } from '../run/status.ts';
import { PVCRestoreSpecSchema } from '../schema/pvcrestore.ts';
import { validator } from '../schema/validate.ts';
import { restoreChildName, restoreJob, restoreSecret, targetPvc, type RestoreRun, type TargetVolume } from './children.ts';
import { planRestore, type PVCRestore, type PVCRestoreSpec, type PVCRestoreStatus, type RestorePlan } from './types.ts';

export type RestoreSyncRequest = CompositeSyncRequest<PVCRestore>;
export type RestoreSyncResponse = CompositeSyncResponse<PVCRestoreStatus>;
type RestoreStep = Step<PVCRestoreStatus>;
type Context = RunContext<PVCRestore>;

const validateSpec = validator<PVCRestoreSpec>(PVCRestoreSpecSchema, 'spec');
const POLL_SECONDS = 300;

interface Observed {
  pvc: PersistentVolumeClaim | undefined;
  job: Job | undefined;
  /** The target PVC as seen among related objects: exists even when this restore did not make it. */
  existingTarget: PersistentVolumeClaim | undefined;
  sourcePvc: PersistentVolumeClaim | undefined;
  namespace: Namespace | undefined;
  sourceNamespace: Namespace | undefined;
  pods: Pod[];
}

function observeRestore(plan: RestorePlan, context: Context): Observed {
  const { children, related } = context.observed;
  const ns = plan.namespace;
  return {
    pvc: findObject<PersistentVolumeClaim>(children, 'PersistentVolumeClaim', 'v1', ns, plan.targetPvc),
    job: findObject<Job>(children, 'Job', 'batch/v1', ns, restoreChildName(plan.name)),
    existingTarget: findObject<PersistentVolumeClaim>(related, 'PersistentVolumeClaim', 'v1', ns, plan.targetPvc),
    sourcePvc: findObject<PersistentVolumeClaim>(related, 'PersistentVolumeClaim', 'v1', plan.sourceNamespace, plan.sourcePvc),
    namespace: findObject<Namespace>(related, 'Namespace', 'v1', undefined, ns),
    sourceNamespace: findObject<Namespace>(related, 'Namespace', 'v1', undefined, plan.sourceNamespace),
    pods: objectsOf<Pod>(related, 'Pod', 'v1'),
  };
}

/** The volume to create: as already created, else from the spec, else like the source PVC. */
function targetVolume(plan: RestorePlan, observed: Observed): TargetVolume | undefined {
  const size =
    observed.pvc?.spec.resources?.requests?.['storage'] ??
    (plan.spec.targetPvcSize === undefined ? undefined : String(plan.spec.targetPvcSize)) ??
    observed.sourcePvc?.status?.capacity?.['storage'] ??
    observed.sourcePvc?.spec.resources?.requests?.['storage'];
  if (size === undefined) return undefined;
  const accessModes = observed.pvc?.spec.accessModes ?? observed.sourcePvc?.spec.accessModes ?? ['ReadWriteOnce'];
  return { size, accessModes };
}

function allowedTargets(namespace: Namespace | undefined): string[] {
  return (namespace?.metadata.annotations?.[ALLOW_RESTORE_TO_ANNOTATION] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

type Check = { ok: true } | { ok: false; wait: boolean; reason: string; message: string };

/** Whether the restore may start; `wait` problems may resolve (informer lag) within the start grace. */
function preflight(plan: RestorePlan, observed: Observed, config: Config): Check {
  if (plan.sourceNamespace !== plan.namespace && !config.allowCrossNamespaceRestore) {
    if (observed.sourceNamespace === undefined) {
      return { ok: false, wait: true, reason: 'SourceNamespaceNotFound', message: `namespace ${plan.sourceNamespace} does not exist` };
    }
    const allowed = allowedTargets(observed.sourceNamespace);
    if (!allowed.includes('*') && !allowed.includes(plan.namespace)) {
      return {
        ok: false,
        wait: false,
        reason: 'CrossNamespaceRestoreDenied',
        message: `namespace ${plan.sourceNamespace} does not allow restoring its backups into ${plan.namespace}: annotate it with ${ALLOW_RESTORE_TO_ANNOTATION}=${plan.namespace}`,
      };
    }
  }
  const existing = observed.existingTarget;
  if (existing !== undefined && !isOwnedBy(existing, plan.uid) && existing.metadata.deletionTimestamp !== undefined) {
    // Typical when moving a volume: the old PVC was just deleted and waits for its Pods to go.
    return { ok: false, wait: true, reason: 'TargetPVCDeleting', message: `PVC ${plan.targetPvc} is still being deleted` };
  }
  if (existing !== undefined && !isOwnedBy(existing, plan.uid)) {
    return { ok: false, wait: false, reason: 'TargetPVCExists', message: `PVC ${plan.targetPvc} already exists; a restore only creates new PVCs and never overwrites one` };
  }
  if (observed.namespace === undefined) {
    return { ok: false, wait: true, reason: 'WaitingForNamespace', message: `namespace ${plan.namespace} is not observed yet` };
  }
  return { ok: true };
}

function restoringMessage(plan: RestorePlan): string {
  const which = plan.restoreAsOf === undefined ? `snapshot ${plan.sourceSnapshot}` : `the newest snapshot taken at or before ${plan.restoreAsOf}`;
  return `restoring ${which} of ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`;
}

function start(plan: RestorePlan, context: Context): RestoreStep {
  const { config, now } = context;
  const observed = observeRestore(plan, context);
  const check = preflight(plan, observed, config);
  if (!check.ok) {
    const created = parseTime(context.observed.parent.metadata.creationTimestamp)?.getTime() ?? now.getTime();
    const graceEnds = created + config.startGraceMs;
    if (!check.wait) return { kind: 'finish', result: 'Failed', reason: check.reason, message: check.message, at: now };
    if (now.getTime() >= graceEnds) return { kind: 'finish', result: 'Failed', reason: check.reason, message: check.message, at: new Date(graceEnds) };
    return { kind: 'wait', state: { phase: 'Pending', reason: check.reason, message: check.message }, resyncAfterSeconds: Math.min(10, secondsUntil(graceEnds, now)) };
  }
  const volume = targetVolume(plan, observed);
  if (volume === undefined || observed.namespace === undefined) {
    const message = `PVC ${plan.sourceNamespace}/${plan.sourcePvc} no longer exists, so the size of the new PVC is unknown: set spec.targetPvcSize`;
    return { kind: 'wait', state: { phase: 'Pending', reason: 'TargetSizeUnknown', message } };
  }
  const run: RestoreRun = { ...plan, startedAt: context.startedAt };
  return {
    kind: 'run',
    state: { phase: 'Running', reason: 'RestoreRunning', message: restoringMessage(plan) },
    children: [restoreSecret(run, config), targetPvc(run, volume, observed.namespace, config), restoreJob(run, config)],
    resyncAfterSeconds: POLL_SECONDS,
  };
}

function progress(plan: RestorePlan, context: Context): RestoreStep {
  const { config, now } = context;
  const observed = observeRestore(plan, context);
  const run: RestoreRun = { ...plan, startedAt: context.startedAt };
  const running = { phase: 'Running', reason: 'RestoreRunning', message: restoringMessage(plan) } as const;
  const volume = targetVolume(plan, observed);
  const namespace = observed.namespace;
  // Only possible when related objects vanished mid-run: keep everything and look again.
  if (volume === undefined || namespace === undefined) return { kind: 'wait', state: running, resyncAfterSeconds: 10 };
  const all = [restoreSecret(run, config), targetPvc(run, volume, namespace, config), restoreJob(run, config)];
  const outcome = jobOutcome(observed.job, observed.pods, config, now);
  switch (outcome.kind) {
    case 'failed':
      // A snapshot that is not (or no longer, after retention) in the repository has its own reason.
      if (outcome.resticReason === 'SnapshotNotFound') return { kind: 'finish', result: 'Failed', reason: 'SnapshotNotFound', message: outcome.why, at: outcome.at };
      return { kind: 'finish', result: 'Failed', reason: 'JobFailed', message: `restic restore failed (${outcome.reason}): ${outcome.why}`, at: outcome.at };
    case 'collecting':
      return { kind: 'run', state: { phase: 'Running', ...COLLECTING }, children: all, resyncAfterSeconds: Math.min(5, secondsUntil(outcome.graceEnds, now)) };
    case 'complete': {
      if (outcome.report?.kind !== 'restore') {
        return { kind: 'finish', result: 'Succeeded', reason: 'Succeeded', message: `restored ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`, at: outcome.at };
      }
      const { snapshotId, statistics } = outcome.report;
      const message = `restored snapshot ${snapshotId.slice(0, 8)} of ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`;
      return { kind: 'finish', result: 'Succeeded', reason: 'Succeeded', message, at: outcome.at, fields: { snapshotId, ...(statistics === undefined ? {} : { statistics }) } };
    }
    case 'lost':
      return { kind: 'finish', result: 'Failed', reason: 'DeadlineExceeded', message: lostMessage(config), at: outcome.at };
    case 'absent':
    case 'running':
      return {
        kind: 'run',
        state: running,
        children: all,
        resyncAfterSeconds: outcome.kind === 'running' ? Math.min(POLL_SECONDS, secondsUntil(outcome.lostAt, now)) : POLL_SECONDS,
      };
  }
}

const restoreDefinition: RunDefinition<PVCRestore, RestorePlan, PVCRestoreStatus> = {
  what: 'restore',
  plan(parent) {
    const validation = validateSpec(parent.spec ?? {});
    if (!validation.ok) return { ok: false, message: validation.message };
    const plan = planRestore(parent.metadata.name, parent.metadata.namespace ?? '', parent.metadata.uid ?? '', validation.value);
    return typeof plan === 'string' ? { ok: false, message: plan } : { ok: true, plan };
  },
  start,
  progress,
  // Restored data is never deleted: the PVC stays. A failed restore also keeps its Job for its
  // logs, unless it ran past its deadline (it is stopped by deleting it).
  retained(status, children) {
    const keepJob = status.result === 'Failed' && failureReason(status) !== 'DeadlineExceeded';
    return [...identitiesOf(children, 'PersistentVolumeClaim', 'v1'), ...(keepJob ? identitiesOf(children, 'Job', 'batch/v1') : [])];
  },
  // Restores are few and no labeler labels them: Metacontroller goes on syncing finished ones.
  marksRetired: false,
};

export function syncRestore(request: RestoreSyncRequest, config: Config, now: Date): HookResult<RestoreSyncResponse> {
  return syncRun(restoreDefinition, request, config, now);
}
