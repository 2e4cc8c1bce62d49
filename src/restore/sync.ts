// The PVCRestore sync hook: a pure state machine.
//
//   Pending ─checks─▶ Running: target PVC + Job (restic restore) ─Complete─▶ Succeeded (the PVC stays, owned by its Namespace too)
//                        │ Job Failed, deadline ───────────────────────────▶ Failed (PVC and Job kept)
//   checks: source namespace allows the restore, target PVC does not exist yet, size known.
import { namespaceInScope, type Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import type { Job, Namespace, PersistentVolumeClaim, Pod, Secret } from '../kube/types.ts';
import { isOwnedBy } from '../kube/meta.ts';
import { ALLOW_RESTORE_TO_ANNOTATION } from '../labels.ts';
import { retainObserved, secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import { findObject, objectsOf } from '../metacontroller/objects.ts';
import type { CompositeSyncRequest, CompositeSyncResponse } from '../metacontroller/types.ts';
import { COLLECTING, jobOutcome, lostMessage } from '../restic/job-outcome.ts';
import { PVCRestoreSpecSchema } from '../schema/pvcrestore.ts';
import { validator } from '../schema/validate.ts';
import { STARTED_BY_BACKSNAP, recordedState, runResponse, startedByBacksnap, type Outcome as RunOutcome } from '../run.ts';
import { finishFields } from '../status.ts';
import { restoreChildName, restoreJob, restoreSecret, targetPvc, type TargetVolume } from './children.ts';
import { planRestore, type PVCRestore, type PVCRestoreSpec, type PVCRestoreStatus, type RestorePlan } from './types.ts';

export type RestoreSyncRequest = CompositeSyncRequest<PVCRestore>;
export type RestoreSyncResponse = CompositeSyncResponse<PVCRestoreStatus>;
type Outcome = RunOutcome<PVCRestoreStatus>;

const validateSpec = validator<PVCRestoreSpec>(PVCRestoreSpecSchema, 'spec');
const POLL_SECONDS = 300;

interface Observed {
  restore: PVCRestore;
  pvc: PersistentVolumeClaim | undefined;
  job: Job | undefined;
  secret: Secret | undefined;
  /** The target PVC as seen among related objects: exists even when this restore did not make it. */
  existingTarget: PersistentVolumeClaim | undefined;
  sourcePvc: PersistentVolumeClaim | undefined;
  namespace: Namespace | undefined;
  sourceNamespace: Namespace | undefined;
  pods: Pod[];
}

function observe(request: RestoreSyncRequest, plan: RestorePlan): Observed {
  const { parent, children, related } = request;
  const ns = plan.namespace;
  const childName = restoreChildName(parent.metadata.name);
  return {
    restore: parent,
    pvc: findObject<PersistentVolumeClaim>(children, 'PersistentVolumeClaim', 'v1', ns, plan.targetPvc),
    job: findObject<Job>(children, 'Job', 'batch/v1', ns, childName),
    secret: findObject<Secret>(children, 'Secret', 'v1', ns, childName),
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

function fail(plan: RestorePlan, observed: Observed, reason: string, message: string, config: Config, now: Date, keepJob = true): Outcome {
  // Never delete restored data on failure: the PVC stays (and so does the Job, for its logs).
  const children = [];
  const volume = targetVolume(plan, observed);
  if (observed.pvc !== undefined && volume !== undefined && observed.namespace !== undefined) children.push(targetPvc(plan, volume, observed.namespace, config));
  if (keepJob && observed.job !== undefined) children.push(restoreJob(plan, config));
  return { state: { phase: 'Failed', reason, message }, children, fields: finishFields(observed.restore.status?.startedAt, 'Failed', now) };
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

function start(plan: RestorePlan, observed: Observed, config: Config, now: Date): Outcome {
  const check = preflight(plan, observed, config);
  if (!check.ok) {
    const created = parseTime(observed.restore.metadata.creationTimestamp)?.getTime() ?? now.getTime();
    const graceEnds = created + config.startGraceMs;
    if (!check.wait || now.getTime() >= graceEnds) return fail(plan, observed, check.reason, check.message, config, now);
    return { state: { phase: 'Pending', reason: check.reason, message: check.message }, children: [], resyncAfterSeconds: Math.min(10, secondsUntil(graceEnds, now)) };
  }
  const volume = targetVolume(plan, observed);
  if (volume === undefined || observed.namespace === undefined) {
    const message = `PVC ${plan.sourceNamespace}/${plan.sourcePvc} no longer exists, so the size of the new PVC is unknown: set spec.targetPvcSize`;
    return { state: { phase: 'Pending', reason: 'TargetSizeUnknown', message }, children: [] };
  }
  return {
    state: { phase: 'Running', reason: 'RestoreRunning', message: restoringMessage(plan) },
    children: [restoreSecret(plan, config), targetPvc(plan, volume, observed.namespace, config), restoreJob(plan, config)],
    fields: { startedAt: formatTime(now) },
    resyncAfterSeconds: POLL_SECONDS,
  };
}

function restoringMessage(plan: RestorePlan): string {
  return `restoring snapshot ${plan.sourceSnapshot} of ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`;
}

function running(plan: RestorePlan, observed: Observed, config: Config, now: Date): Outcome {
  const volume = targetVolume(plan, observed);
  const namespace = observed.namespace;
  if (volume === undefined || namespace === undefined) {
    // Only possible when related objects vanished mid-run; keep everything and look again.
    return { state: { phase: 'Running', reason: 'RestoreRunning', message: restoringMessage(plan) }, children: retainObserved(observedChildren(observed)), resyncAfterSeconds: 10 };
  }
  const pvc = targetPvc(plan, volume, namespace, config);
  const all = [restoreSecret(plan, config), pvc, restoreJob(plan, config)];
  const outcome = jobOutcome(observed.job, observed.pods, config, now);
  switch (outcome.kind) {
    case 'failed':
      return fail(plan, observed, 'JobFailed', `restic restore failed (${outcome.reason}): ${outcome.why}`, config, now);
    case 'collecting':
      return { state: { phase: 'Running', ...COLLECTING }, children: all, resyncAfterSeconds: Math.min(5, secondsUntil(outcome.graceEnds, now)) };
    case 'complete': {
      const fields: Partial<PVCRestoreStatus> = finishFields(observed.restore.status?.startedAt, 'Succeeded', now);
      let message = `restored ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`;
      if (outcome.report?.kind === 'restore') {
        fields.snapshotId = outcome.report.snapshotId;
        if (outcome.report.statistics !== undefined) fields.statistics = outcome.report.statistics;
        message = `restored snapshot ${outcome.report.snapshotId.slice(0, 8)} of ${plan.sourceNamespace}/${plan.sourcePvc} into PVC ${plan.targetPvc}`;
      }
      // The Job and its Secret go; the restored PVC is never dropped.
      return { state: { phase: 'Succeeded', reason: 'Succeeded', message }, children: [pvc], fields };
    }
    case 'lost':
      return fail(plan, observed, 'DeadlineExceeded', lostMessage(config), config, now, false);
    case 'absent':
    case 'running':
      return {
        state: { phase: 'Running', reason: 'RestoreRunning', message: restoringMessage(plan) },
        children: all,
        resyncAfterSeconds: outcome.kind === 'running' ? Math.min(POLL_SECONDS, secondsUntil(outcome.lostAt, now)) : POLL_SECONDS,
      };
  }
}

function observedChildren(observed: Observed) {
  const groups: Record<string, Record<string, Job | PersistentVolumeClaim | Secret>> = {};
  for (const child of [observed.secret, observed.pvc, observed.job]) {
    if (child === undefined) continue;
    const key = `${child.kind}.${child.apiVersion}`;
    groups[key] = { ...groups[key], [`${child.metadata.namespace ?? ''}/${child.metadata.name}`]: child };
  }
  return groups;
}

function finished(plan: RestorePlan, observed: Observed, config: Config): Outcome {
  const status = observed.restore.status ?? {};
  const state = recordedState(status, 'restore');
  const children = [];
  const volume = targetVolume(plan, observed);
  if (observed.pvc !== undefined && volume !== undefined && observed.namespace !== undefined) children.push(targetPvc(plan, volume, observed.namespace, config));
  else if (observed.pvc !== undefined) children.push(...retainObserved(observedChildren({ ...observed, job: undefined, secret: undefined })));
  if (status.result === 'Failed' && observed.job !== undefined) children.push(restoreJob(plan, config));
  return { state, children };
}

export function syncRestore(request: RestoreSyncRequest, config: Config, now: Date): HookResult<RestoreSyncResponse> {
  const parent = request.parent;
  const ns = parent.metadata.namespace ?? '';
  const validation = validateSpec(parent.spec ?? {});
  const plan = validation.ok ? planRestore(parent.metadata.name, ns, parent.metadata.uid ?? '', validation.value) : validation.message;
  if (typeof plan === 'string') {
    if (parent.status?.result !== undefined) {
      return runResponse(parent, { state: recordedState(parent.status, 'restore'), children: retainObserved(request.children) }, now);
    }
    const phase = parent.status?.startedAt === undefined ? 'Pending' : 'Running';
    return runResponse(parent, { state: { phase, reason: 'InvalidSpec', message: `invalid spec: ${plan}` }, children: retainObserved(request.children) }, now);
  }
  const observed = observe(request, plan);
  if (parent.status?.result !== undefined) return runResponse(parent, finished(plan, observed, config), now);
  if (startedByBacksnap(parent.status)) return runResponse(parent, fail(plan, observed, STARTED_BY_BACKSNAP.reason, STARTED_BY_BACKSNAP.message, config, now), now);
  if (parent.status?.startedAt === undefined) {
    if (!namespaceInScope(config, ns)) {
      const message = `namespace ${ns} is not in the operator's namespaces (BACKSNAP_NAMESPACES / BACKSNAP_EXCLUDE_NAMESPACES)`;
      return runResponse(parent, { state: { phase: 'Pending', reason: 'NamespaceNotInScope', message }, children: retainObserved(request.children) }, now);
    }
    return runResponse(parent, start(plan, observed, config, now), now);
  }
  return runResponse(parent, running(plan, observed, config, now), now);
}
