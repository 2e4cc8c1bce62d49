// One sync of one DecoratorController target, in the order of syncParentObject
// (pkg/controller/decorator/controller.go): observe attachments and related objects, call the hook,
// write labels/annotations/status on the target, then manage attachments.
import { createMergePatch, deepEqual } from './apply-merge.ts';
import { makeControllerRef, planChildren } from './child-plan.ts';
import type { DecoratorConfig, DecoratorResourceRule } from './controller-spec.ts';
import { parseDecoratorSyncResponse, type RelatedRule } from './hook-response.ts';
import { isStatus } from './kube-api.ts';
import { isPlainObject, type KubeObject, type ResourceInfo } from './kube-types.ts';
import { annotationSelectorAsLabelSelector, matchesSelector } from './label-selector.ts';
import { buildObjectMap, groupKey, type ObjectMap } from './object-map.ts';
import { DECORATOR_ANNOTATION, decoratorAttachments, fingerprint } from './observe.ts';
import { decoratorSyncRequest } from './payload.ts';
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

export interface DecoratorRuntime {
  config: DecoratorConfig;
  /** Resources of config.resources, same order. */
  targets: ResourceInfo[];
  /** Resources of config.attachments, same order. */
  attachments: ResourceInfo[];
  customizeCache: CustomizeCache;
}

/** Both the label and the annotation selector of the rule must match. */
export function decoratorSelects(rule: DecoratorResourceRule, obj: KubeObject): boolean {
  return matchesSelector(rule.labelSelector, obj.metadata?.labels) && matchesSelector(annotationSelectorAsLabelSelector(rule.annotationSelector), obj.metadata?.annotations);
}

/** updateStringMap: null deletes a key, keys not mentioned stay; returns only the changes. */
export function stringMapChanges(current: Record<string, string> | undefined, updates: Record<string, string | null>): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(updates)) {
    const has = current !== undefined && Object.hasOwn(current, key);
    if (value === null) {
      if (has) changes[key] = null;
    } else if (!has || current[key] !== value) {
      changes[key] = value;
    }
  }
  return changes;
}

export function desiredAttachments(rt: Pick<DecoratorRuntime, 'config' | 'attachments'>, target: KubeObject, attachments: KubeObject[]): ObjectMap {
  const desired: ObjectMap = {};
  for (const attachment of attachments) {
    const res = rt.attachments.find((r) => r.apiVersion === attachment.apiVersion && r.kind === attachment.kind);
    if (res === undefined) throw new Error(`desired attachment ${attachment.kind} ${attachment.metadata?.name} (apiVersion ${attachment.apiVersion}) is not one of the controller's attachments`);
    defaultNamespace(attachment, res, target.metadata?.namespace ?? '');
    attachment.metadata ??= {};
    // Remembers which decorator made it; getChildren only sees attachments carrying it.
    attachment.metadata.annotations = { ...attachment.metadata.annotations, [DECORATOR_ANNOTATION]: rt.config.name };
    const map = buildObjectMap([], [attachment]);
    for (const [group, objects] of Object.entries(map)) desired[group] = { ...desired[group], ...objects };
  }
  return desired;
}

export async function syncDecoratorTarget(ctx: SyncContext, rt: DecoratorRuntime, ruleIndex: number, namespace: string, name: string): Promise<SyncOutcome> {
  const targetRes = rt.targets[ruleIndex];
  const rule = rt.config.resources[ruleIndex];
  if (targetRes === undefined || rule === undefined) return { result: 'gone' };
  let fp: string | undefined;
  let rules: RelatedRule[] | undefined;
  try {
    const target = await ctx.cluster.get(targetRes, namespace, name);
    if (target === undefined) return { result: 'gone' };
    if (!decoratorSelects(rule, target)) return { result: 'ignored', fingerprint: fingerprint(target) };

    const lists = await Promise.all(rt.attachments.map((res) => ctx.cluster.list(res, namespace === '' ? undefined : namespace)));
    const observed = buildObjectMap(
      rt.attachments.map((res) => ({ kind: res.kind, apiVersion: res.apiVersion })),
      lists.flatMap((objects) => decoratorAttachments(objects, target, rt.config.name)),
    );
    rules = await relatedRulesFor(rt.config.customize, rt.config.object, target, rt.customizeCache);
    const related = await collectRelated(ctx.discovery, (res, ns) => ctx.cluster.list(res, ns), rules);
    fp = fingerprint(target, observed, related);

    const response = await callSyncHook(rt.config.sync, decoratorSyncRequest(rt.config.object, target, observed, related), parseDecoratorSyncResponse, fp, rules);
    const desired = desiredAttachments(rt, target, response.attachments);

    const synced = (extra: { statusWritten: boolean; counts?: { creates: number; deletes: number; updates: number }; error?: string }): SyncOutcome => {
      const outcome: SyncOutcome = {
        result: 'synced',
        fingerprint: fp ?? '',
        counts: extra.counts ?? { creates: 0, deletes: 0, updates: 0 },
        resyncAfterSeconds: response.resyncAfterSeconds,
        statusWritten: extra.statusWritten,
        relatedRules: rules ?? [],
      };
      if (extra.error !== undefined) outcome.error = extra.error;
      return outcome;
    };

    // Target: labels, annotations, status. A conflict or 404 ends the sync without error and
    // without touching attachments, as in Metacontroller; the change that caused it triggers a resync.
    const currentStatus = isPlainObject(target['status']) ? target['status'] : undefined;
    const desiredStatus = response.status ?? currentStatus;
    const statusChanged = !deepEqual(currentStatus, desiredStatus);
    const labelChanges = stringMapChanges(target.metadata?.labels, response.labels);
    const annotationChanges = stringMapChanges(target.metadata?.annotations, response.annotations);
    let resourceVersion = target.metadata?.resourceVersion;
    let statusWritten = false;
    try {
      if (statusChanged && targetRes.hasStatus) {
        const written = await ctx.cluster.mergePatch(targetRes, namespace, name, { metadata: { resourceVersion }, status: statusPatch(currentStatus, desiredStatus) }, 'status');
        resourceVersion = written.metadata?.resourceVersion;
        statusWritten = true;
      }
      const metadataChanged = Object.keys(labelChanges).length > 0 || Object.keys(annotationChanges).length > 0;
      if (metadataChanged || (statusChanged && !targetRes.hasStatus)) {
        const patch: Record<string, unknown> = { metadata: { resourceVersion, labels: labelChanges, annotations: annotationChanges } };
        if (statusChanged && !targetRes.hasStatus) {
          patch['status'] = statusPatch(currentStatus, desiredStatus);
          statusWritten = true;
        }
        await ctx.cluster.mergePatch(targetRes, namespace, name, patch);
      }
    } catch (error) {
      if (isStatus(error, 404) || isStatus(error, 409)) return synced({ statusWritten });
      throw error;
    }

    if (target.metadata?.deletionTimestamp !== undefined) return synced({ statusWritten });
    const errors: string[] = [];
    const plan = planChildren({
      observed,
      desired,
      controllerRef: makeControllerRef(target),
      methodOf: (apiVersion, kind) => rt.config.attachments[rt.attachments.findIndex((r) => r.apiVersion === apiVersion && r.kind === kind)]?.method ?? '',
    });
    errors.push(...plan.errors);
    const resourceOf = (obj: KubeObject): ResourceInfo => {
      const res = rt.attachments.find((r) => groupKey(r.kind, r.apiVersion) === groupKey(obj.kind ?? '', obj.apiVersion ?? ''));
      if (res === undefined) throw new Error(`no attachment resource for ${obj.kind}.${obj.apiVersion}`);
      return res;
    };
    const counts = await executePlan(ctx.cluster, resourceOf, plan.operations, errors);
    return errors.length > 0 ? synced({ statusWritten, counts, error: errors.join('; ') }) : synced({ statusWritten, counts });
  } catch (error) {
    if (error instanceof SyncStop) return error.outcome;
    const failed: SyncOutcome = { result: 'failed', error: errorText(error) };
    if (fp !== undefined) failed.fingerprint = fp;
    if (rules !== undefined) failed.relatedRules = rules;
    return failed;
  }
}

/** A merge patch value that replaces the whole status (a merge patch alone would merge maps). */
function statusPatch(current: Record<string, unknown> | undefined, desired: Record<string, unknown> | undefined): unknown {
  if (desired === undefined) return null;
  return createMergePatch(current ?? {}, desired);
}
