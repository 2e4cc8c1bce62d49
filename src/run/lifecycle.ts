// The run lifecycle that backups and restores share: finished → backsnap's → invalid spec →
// not started (scope, checks, start) → started (progress) → finish. Each kind says only what
// differs: how its spec becomes a plan, how it starts, how it progresses, what it keeps.
//
// Metacontroller's caches lag (DESIGN.md §4): the parent a sync observes can be older than the
// status the previous sync wrote, and children can lag behind what was created or deleted. So:
// - a run has started when its status says so or any of its children is observed, except children
//   made ahead of the start (AHEAD_OF_START_ANNOTATION: a backup's snapshot taken while it waits);
// - children are deleted only by `retire`, in a sync whose *observed* parent already carries the
//   result; every other answer keeps each observed child (the sync that decides the result too);
// - a run is marked `Retired` (and then no longer synced) only a settle time after nothing but what
//   it keeps was first observed, so no child can still be missing from a lagging cache;
// - a started run of which no child is observed creates nothing: its children are on their way
//   (or were never made, which fails it after CHILDREN_SETTLE_MS);
// - every decision is a function of what is observed and of times recorded on observed objects
//   (the start time stamped on the children, the Job's completion), so a sync that observes a
//   stale parent answers what the previous sync answered and writes nothing new.
import { namespaceInScope, type Config } from '../config.ts';
import { formatTime, parseTime } from '../duration.ts';
import type { KubeObject } from '../kube/types.ts';
import { objectKey } from '../kube/meta.ts';
import { AHEAD_OF_START_ANNOTATION, STARTED_AT_ANNOTATION } from '../labels.ts';
import { retainObserved, secondsUntil, type HookResult } from '../metacontroller/hook.ts';
import type { CompositeSyncRequest, CompositeSyncResponse, ObjectGroups } from '../metacontroller/types.ts';
import { finishFields, recordedState, runConditions, type ExtraCondition, type RunResult, type RunState, type RunStatusBase } from './status.ts';

/** How long a started run may show none of its children: far longer than any informer lag. */
export const CHILDREN_SETTLE_MS = 60_000;
const MISSING_POLL_SECONDS = 5;

export interface RunParent<Status> extends KubeObject {
  spec?: unknown;
  status?: Status;
}

/** What one sync observed, with absent maps read as empty. */
export interface Observation<Parent> {
  parent: Parent;
  children: ObjectGroups;
  related: ObjectGroups;
}

export interface RunContext<Parent> {
  observed: Observation<Parent>;
  config: Config;
  now: Date;
  /** RFC 3339 start of the run, stamped on every child (STARTED_AT_ANNOTATION). */
  startedAt: string;
}

/**
 * What a kind decides in one sync. `wait`: nothing new, keep what is observed. `prepare`: not
 * started, but children made ahead of the start (marked AHEAD_OF_START_ANNOTATION, or they would
 * start it). `run`: the children the run needs now (observed ones are kept in any case).
 * `finish`: the result, at the time it happened (the Job's completion, a deadline), never the time
 * this sync ran.
 */
export type Step<Status> =
  | { kind: 'wait'; state: RunState; resyncAfterSeconds?: number }
  | { kind: 'prepare'; state: RunState; children: KubeObject[]; resyncAfterSeconds?: number }
  | { kind: 'run'; state: RunState; children: KubeObject[]; fields?: Partial<Status>; resyncAfterSeconds?: number }
  | { kind: 'finish'; result: RunResult; reason: string; message: string; at: Date; fields?: Partial<Status>; conditions?: ExtraCondition[] };

export interface RunDefinition<Parent extends RunParent<Status>, Plan, Status extends RunStatusBase> {
  what: 'backup' | 'restore';
  /** The validated spec with defaults, or why it is invalid. */
  plan(parent: Parent): { ok: true; plan: Plan } | { ok: false; message: string };
  /** Before the run's own children exist: checks (and, for backups, the concurrency gate), then the first children. */
  start(plan: Plan, context: RunContext<Parent>): Step<Status>;
  /** Once started: the next children, or the result, from the observed children. */
  progress(plan: Plan, context: RunContext<Parent>): Step<Status>;
  /** What a finished run keeps of its observed children; the rest is deleted. */
  retained(status: Status, children: ObjectGroups): KubeObject[];
  /** Whether a finished run is marked `Retired` once its view has settled (see `retire`). */
  marksRetired: boolean;
}

/**
 * A run that has a start time but no phase was started by the Go backsnap operator (which never
 * wrote a phase). Its children are backsnap's, so it cannot be continued: it ends as Failed
 * instead of hanging, which frees its concurrency slot.
 */
export function startedByBacksnap(status: RunStatusBase | undefined): boolean {
  return status?.startedAt !== undefined && status.phase === undefined && status.result === undefined;
}

/** Whether a stored run has started (for the concurrency gate and metrics). */
export function hasStarted(status: RunStatusBase | undefined): boolean {
  return status?.startedAt !== undefined || status?.phase === 'Running';
}

/** The start time stamped on the observed children (the earliest, should they disagree). */
export function stampedStart(children: ObjectGroups): string | undefined {
  let earliest: string | undefined;
  for (const group of Object.values(children)) {
    for (const child of Object.values(group)) {
      const stamp = child.metadata.annotations?.[STARTED_AT_ANNOTATION];
      if (stamp !== undefined && parseTime(stamp) !== undefined && (earliest === undefined || stamp < earliest)) earliest = stamp;
    }
  }
  return earliest;
}

function observe<Parent extends KubeObject>(request: CompositeSyncRequest<Parent>): Observation<Parent> {
  return { parent: request.parent, children: request.children ?? {}, related: request.related ?? {} };
}

/** Which child an object is, across the child groups. */
const childIdentity = (c: KubeObject) => `${c.apiVersion}/${c.kind}/${objectKey(c)}`;

/** The desired children plus every observed child they leave out: nothing is deleted here. */
function keepingObserved(desired: readonly KubeObject[], observed: ObjectGroups): KubeObject[] {
  const named = new Set(desired.map(childIdentity));
  return [...desired, ...retainObserved(observed).filter((c) => !named.has(childIdentity(c)))];
}

interface Answer<Status> {
  state: RunState;
  children: KubeObject[];
  fields?: Partial<Status>;
  resyncAfterSeconds?: number;
  /** When the state changed, for the conditions' lastTransitionTime. */
  at: Date;
  conditions?: ExtraCondition[];
}

function respond<Status extends RunStatusBase>(parent: RunParent<Status>, answer: Answer<Status>): HookResult<CompositeSyncResponse<Status>> {
  const previous = parent.status ?? ({} as Status);
  const status: Status = {
    ...previous,
    ...answer.fields,
    phase: answer.state.phase,
    message: answer.state.message,
    conditions: runConditions(previous.conditions, answer.state, answer.at, answer.conditions),
  };
  if (parent.metadata.generation !== undefined) status.observedGeneration = parent.metadata.generation;
  const response: CompositeSyncResponse<Status> = { status, children: answer.children };
  if (answer.resyncAfterSeconds !== undefined) response.resyncAfterSeconds = answer.resyncAfterSeconds;
  return {
    response,
    decision: {
      reason: answer.state.reason,
      phase: answer.state.phase,
      children: answer.children.map((c) => c.kind),
      ...(answer.resyncAfterSeconds === undefined ? {} : { resyncAfterSeconds: answer.resyncAfterSeconds }),
    },
  };
}

function answerStep<Status extends RunStatusBase>(step: Step<Status>, observed: ObjectGroups, startedAt: string | undefined, now: Date): Answer<Status> {
  switch (step.kind) {
    case 'wait':
    case 'prepare':
      return {
        state: step.state,
        children: keepingObserved(step.kind === 'prepare' ? step.children : [], observed),
        at: now,
        ...(step.resyncAfterSeconds === undefined ? {} : { resyncAfterSeconds: step.resyncAfterSeconds }),
      };
    case 'run':
      return {
        state: step.state,
        children: keepingObserved(step.children, observed),
        fields: { ...step.fields, ...(startedAt === undefined ? {} : { startedAt }) } as Partial<Status>,
        at: now,
        ...(step.resyncAfterSeconds === undefined ? {} : { resyncAfterSeconds: step.resyncAfterSeconds }),
      };
    case 'finish':
      return {
        state: { phase: step.result, reason: step.reason, message: step.message },
        // The deciding sync keeps everything: a stale next sync must still see the children.
        children: retainObserved(observed),
        fields: { ...step.fields, ...(startedAt === undefined ? {} : { startedAt }), ...finishFields(startedAt, step.result, step.at) } as Partial<Status>,
        at: step.at,
        ...(step.conditions === undefined ? {} : { conditions: step.conditions }),
      };
  }
}

/** Started by its status, but none of its children observed yet. */
function childrenMissing<Status extends RunStatusBase>(status: Status, what: string, since: Date, now: Date): Step<Status> {
  const failsAt = since.getTime() + CHILDREN_SETTLE_MS;
  if (now.getTime() < failsAt) {
    // Unchanged status, so no write: the children just created are on their way to the cache.
    return { kind: 'wait', state: recordedState(status, what), resyncAfterSeconds: Math.min(MISSING_POLL_SECONDS, secondsUntil(failsAt, now)) };
  }
  return {
    kind: 'finish',
    result: 'Failed',
    reason: 'ChildrenMissing',
    message: `the ${what} started but its objects were never created (see the Warning events on this object and Metacontroller's log); create a new one`,
    at: new Date(failsAt),
  };
}

const RETIRED_CONDITION = 'Retired';

/** Whether a run's status says it is retired (the labeler's cue). */
export function isRetired(status: RunStatusBase | undefined): boolean {
  return status?.conditions?.some((c) => c.type === RETIRED_CONDITION && c.status === 'True') === true;
}

/**
 * A finished run keeps only what its kind retains. Once nothing else is observed, it is marked
 * `Retired` (False, `Settling`), and True once that has held for CHILDREN_SETTLE_MS: every child
 * was created before the result was written, so by then none can still be on its way to the cache.
 * The labeler turns True into RETIRED_LABEL, and Metacontroller stops syncing the run; marking it
 * sooner could leave a child (a Secret with credentials, a running Job) that nothing deletes.
 */
function retire<Parent extends RunParent<Status>, Plan, Status extends RunStatusBase>(
  definition: RunDefinition<Parent, Plan, Status>,
  status: Status,
  children: ObjectGroups,
  now: Date,
): Answer<Status> {
  const kept = definition.retained(status, children);
  const answer: Answer<Status> = { state: recordedState(status, definition.what), children: kept, at: now };
  // A child being deleted counts as gone: the API server finishes its deletion with nobody's help
  // (a failed backup's temporary PVC stays Terminating while the Job it keeps has its Pod).
  const keptKeys = new Set(kept.map(childIdentity));
  const observed = Object.values(children).flatMap((group) => Object.values(group));
  const settled = observed.every((c) => keptKeys.has(childIdentity(c)) || c.metadata.deletionTimestamp !== undefined);
  if (!definition.marksRetired || !settled || isRetired(status)) return answer;
  const marked = status.conditions?.find((c) => c.type === RETIRED_CONDITION);
  const settlingSince = marked === undefined ? now : (parseTime(marked.lastTransitionTime) ?? now);
  const settlesAt = settlingSince.getTime() + CHILDREN_SETTLE_MS;
  if (now.getTime() >= settlesAt) {
    const message = `nothing of the ${definition.what} is left but what it keeps; Metacontroller no longer syncs it`;
    return { ...answer, conditions: [{ type: RETIRED_CONDITION, status: 'True', reason: 'Retired', message }] };
  }
  const message = `its temporary objects are deleted; marked retired once Metacontroller's view has settled`;
  return { ...answer, conditions: [{ type: RETIRED_CONDITION, status: 'False', reason: 'Settling', message }], resyncAfterSeconds: secondsUntil(settlesAt, now) };
}

export function syncRun<Parent extends RunParent<Status>, Plan, Status extends RunStatusBase>(
  definition: RunDefinition<Parent, Plan, Status>,
  request: CompositeSyncRequest<Parent>,
  config: Config,
  now: Date,
): HookResult<CompositeSyncResponse<Status>> {
  const observed = observe(request);
  const { parent, children } = observed;
  const status = parent.status ?? ({} as Status);
  if (status.result !== undefined) {
    // Retire: the observed parent carries the result, so every later sync does too.
    return respond(parent, retire(definition, status, children, now));
  }
  const stamped = stampedStart(children);
  const ofTheRun = childrenOfTheRun(children);
  const anyChild = ofTheRun.length > 0;
  const started = stamped !== undefined || anyChild || hasStarted(status);
  const startedAt = stamped ?? status.startedAt ?? earliestCreation(ofTheRun);

  const answer = (step: Step<Status>, at: string | undefined = startedAt) => respond(parent, answerStep(step, children, at, now));
  if (startedByBacksnap(status) && !anyChild) {
    return answer({ kind: 'finish', result: 'Failed', reason: 'StartedByBacksnap', message: 'this run was started by the Go backsnap operator and cannot be resumed; create a new one', at: now });
  }
  const planned = definition.plan(parent);
  if (!planned.ok) {
    return answer({ kind: 'wait', state: { phase: started ? 'Running' : 'Pending', reason: 'InvalidSpec', message: `invalid spec: ${planned.message}` } });
  }
  const valid = planned.plan;
  if (!started) {
    const namespace = parent.metadata.namespace ?? '';
    if (!namespaceInScope(config, namespace)) {
      const message = `namespace ${namespace} is not in the operator's namespaces (BACKSNAP_NAMESPACES / BACKSNAP_EXCLUDE_NAMESPACES)`;
      return answer({ kind: 'wait', state: { phase: 'Pending', reason: 'NamespaceNotInScope', message } });
    }
    const startingAt = formatTime(now);
    const step = definition.start(valid, { observed, config, now, startedAt: startingAt });
    return answer(step, step.kind === 'run' ? startingAt : undefined);
  }
  if (!anyChild) {
    const since = parseTime(startedAt) ?? parseTime(parent.metadata.creationTimestamp) ?? now;
    return answer(childrenMissing(status, definition.what, since, now));
  }
  return answer(definition.progress(valid, { observed, config, now, startedAt: startedAt ?? formatTime(now) }));
}

/** The observed children but those made ahead of the start. */
function childrenOfTheRun(children: ObjectGroups): KubeObject[] {
  return Object.values(children).flatMap((group) => Object.values(group).filter((c) => c.metadata.annotations?.[AHEAD_OF_START_ANNOTATION] === undefined));
}

/** Children made before start times were stamped on them (an upgrade): the oldest one's creation. */
function earliestCreation(children: readonly KubeObject[]): string | undefined {
  const times = children
    .map((c) => c.metadata.creationTimestamp)
    .filter((t): t is string => t !== undefined)
    .sort();
  return times[0];
}
