// One sync of one CompositeController parent, in the order of syncParentObject
// (pkg/controller/composite/controller.go): observe children, related objects, call the hook,
// validate the answer, manage children, then write status even if managing children failed.
import { deepEqual } from './apply-merge.ts';
import { makeControllerRef, planChildren } from './child-plan.ts';
import type { CompositeConfig } from './controller-spec.ts';
import { parseCompositeSyncResponse, type RelatedRule } from './hook-response.ts';
import { isStatus } from './kube-api.ts';
import type { JsonObject, KubeObject, ResourceInfo } from './kube-types.ts';
import { isEmptySelector, matchesSelector, type LabelSelector } from './label-selector.ts';
import { buildObjectMap, groupKey, type ObjectMap } from './object-map.ts';
import { fingerprint, ownedChildren } from './observe.ts';
import { compositeSyncRequest } from './payload.ts';
import {
  SyncStop,
  callSyncHook,
  collectRelated,
  defaultNamespace,
  errorText,
  executePlan,
  relatedRulesFor,
  type CustomizeCache,
  type SyncContext,
  type SyncOutcome,
} from './sync-common.ts';

export interface CompositeRuntime {
  config: CompositeConfig;
  parent: ResourceInfo;
  /** Resources of config.children, same order. */
  children: ResourceInfo[];
  customizeCache: CustomizeCache;
}

/** makeSelector: controller-uid with generateSelector, else the parent's non-empty spec.selector. */
export function childSelector(config: CompositeConfig, parent: KubeObject): LabelSelector {
  if (config.generateSelector) return { matchLabels: { 'controller-uid': parent.metadata?.uid ?? '' } };
  const spec = parent['spec'];
  const selector = (typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>)['selector'] : undefined) as LabelSelector | undefined;
  if (isEmptySelector(selector)) throw new Error('.spec.selector must have either matchLabels, matchExpressions, or both');
  return selector as LabelSelector;
}

/** Checks and completes the hook's children; throws on anything Metacontroller would refuse. */
export function desiredChildren(rt: Pick<CompositeRuntime, 'config' | 'children'>, parent: KubeObject, children: KubeObject[]): ObjectMap {
  const selector = childSelector(rt.config, parent);
  const desired: ObjectMap = {};
  for (const child of children) {
    const res = rt.children.find((r) => r.apiVersion === child.apiVersion && r.kind === child.kind);
    if (res === undefined) throw new Error(`desired child ${child.kind} ${child.metadata?.name} (apiVersion ${child.apiVersion}) is not one of the controller's childResources`);
    defaultNamespace(child, res, parent.metadata?.namespace ?? '');
    child.metadata ??= {};
    if (rt.config.generateSelector && child.metadata.labels?.['controller-uid'] === undefined) {
      child.metadata.labels = { ...child.metadata.labels, 'controller-uid': parent.metadata?.uid ?? '' };
    }
    if (!matchesSelector(selector, child.metadata.labels)) {
      throw new Error(`labels on desired child ${child.kind} ${child.metadata.namespace ?? ''}/${child.metadata.name} don't match parent selector`);
    }
    const map = buildObjectMap([], [child]);
    for (const [group, objects] of Object.entries(map)) desired[group] = { ...desired[group], ...objects };
  }
  return desired;
}

export async function syncCompositeParent(ctx: SyncContext, rt: CompositeRuntime, namespace: string, name: string): Promise<SyncOutcome> {
  let fp: string | undefined;
  let rules: RelatedRule[] | undefined;
  try {
    const parent = await ctx.cluster.get(rt.parent, namespace, name);
    if (parent === undefined) return { result: 'gone' };
    if (!matchesSelector(rt.config.parent.labelSelector, parent.metadata?.labels)) return { result: 'ignored', fingerprint: fingerprint(parent) };

    const observedLists = await Promise.all(rt.children.map((res) => ctx.cluster.list(res, rt.parent.namespaced ? namespace : undefined)));
    const observed = buildObjectMap(
      rt.children.map((res) => ({ kind: res.kind, apiVersion: res.apiVersion })),
      observedLists.flatMap((objects) => ownedChildren(objects, parent)),
    );
    rules = await relatedRulesFor(rt.config.customize, rt.config.object, parent, rt.customizeCache);
    const related = await collectRelated(ctx.discovery, (res, ns) => ctx.cluster.list(res, ns), rules);
    fp = fingerprint(parent, observed, related);

    const response = await callSyncHook(rt.config.sync, compositeSyncRequest(rt.config.object, parent, observed, related), parseCompositeSyncResponse, fp, rules);

    const desired = desiredChildren(rt, parent, response.children);
    const errors: string[] = [];
    let counts = { creates: 0, deletes: 0, updates: 0 };
    // Children of a parent being deleted are left alone (no finalize hook support).
    if (parent.metadata?.deletionTimestamp === undefined) {
      const plan = planChildren({
        observed,
        desired,
        controllerRef: makeControllerRef(parent),
        methodOf: (apiVersion, kind) => rt.config.children[rt.children.findIndex((r) => r.apiVersion === apiVersion && r.kind === kind)]?.method ?? '',
      });
      errors.push(...plan.errors);
      const resourceOf = (obj: KubeObject): ResourceInfo => {
        const res = rt.children.find((r) => groupKey(r.kind, r.apiVersion) === groupKey(obj.kind ?? '', obj.apiVersion ?? ''));
        if (res === undefined) throw new Error(`no child resource for ${obj.kind}.${obj.apiVersion}`);
        return res;
      };
      counts = await executePlan(ctx.cluster, resourceOf, plan.operations, errors);
    }
    let statusWritten = false;
    try {
      statusWritten = await writeParentStatus(ctx, rt.parent, parent, response.status);
    } catch (error) {
      errors.push(`can't update status: ${errorText(error)}`);
    }
    const outcome: SyncOutcome = { result: 'synced', fingerprint: fp, counts, resyncAfterSeconds: response.resyncAfterSeconds, statusWritten, relatedRules: rules };
    if (errors.length > 0) outcome.error = errors.join('; ');
    return outcome;
  } catch (error) {
    if (error instanceof SyncStop) return error.outcome;
    const failed: SyncOutcome = { result: 'failed', error: errorText(error) };
    if (fp !== undefined) failed.fingerprint = fp;
    if (rules !== undefined) failed.relatedRules = rules;
    return failed;
  }
}

/** The status Metacontroller stores: the hook's status (or {}) plus observedGeneration. */
export function desiredParentStatus(parent: KubeObject, status: JsonObject | null): JsonObject {
  return { ...(status ?? {}), observedGeneration: parent.metadata?.generation ?? 0 };
}

/**
 * AtomicStatusUpdate: read the live parent, give up if its uid changed, write /status only when it
 * differs; retried on conflict, a final conflict or 404 is ignored (the next sync sees the change).
 */
async function writeParentStatus(ctx: SyncContext, res: ResourceInfo, parent: KubeObject, status: JsonObject | null): Promise<boolean> {
  const desired = desiredParentStatus(parent, status);
  for (let attempt = 0; attempt < 5; attempt++) {
    const live = await ctx.cluster.get(res, parent.metadata?.namespace ?? '', parent.metadata?.name ?? '');
    if (live === undefined || live.metadata?.uid !== parent.metadata?.uid) return false;
    if (deepEqual(live['status'], desired)) return false;
    try {
      await ctx.cluster.replaceStatus(res, { ...live, status: desired });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      if (!isStatus(error, 409)) throw error;
    }
  }
  return false;
}
