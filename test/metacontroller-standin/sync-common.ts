// I/O shared by composite and decorator syncs: the customize hook and its cache, fetching related
// objects, running a child plan against the API server.
import type { ChildOperation } from './child-plan.ts';
import { describe } from './child-plan.ts';
import type { ChildRule, HookConfig } from './controller-spec.ts';
import type { Discovery } from './discovery.ts';
import { parseCustomizeResponse, type Parsed, type RelatedRule } from './hook-response.ts';
import { KubeApiError, isStatus, type Cluster } from './kube-api.ts';
import type { KubeObject, ResourceInfo } from './kube-types.ts';
import { buildObjectMap, groupKey, type ObjectMap } from './object-map.ts';
import { customizeRequest } from './payload.ts';
import { listNamespace, selectRelated, usesNamespaceSelector } from './related-rules.ts';
import { callWebhook } from './webhook.ts';

export interface SyncContext {
  cluster: Cluster;
  discovery: Discovery;
}

export interface ChangeCounts {
  creates: number;
  deletes: number;
  updates: number;
}

export type SyncOutcome =
  /** The parent no longer exists: forget it. */
  | { result: 'gone' }
  /** The parent does not match the controller's selectors: nothing was called. */
  | { result: 'ignored'; fingerprint: string }
  /** The hook answered; `error` holds aggregated failures while applying the answer. */
  | { result: 'synced'; fingerprint: string; counts: ChangeCounts; resyncAfterSeconds: number; statusWritten: boolean; relatedRules: RelatedRule[]; error?: string }
  /** Nothing was changed (hook error, invalid answer, read failure). */
  | { result: 'failed'; fingerprint?: string; relatedRules?: RelatedRule[]; error: string }
  /** The hook answered 429: retry after the delay, without backoff. */
  | { result: 'throttled'; fingerprint?: string; relatedRules?: RelatedRule[]; afterSeconds: number };

/** Thrown inside a sync to end it with a given outcome. */
export class SyncStop extends Error {
  readonly outcome: SyncOutcome;
  constructor(outcome: SyncOutcome) {
    super(outcome.result);
    this.outcome = outcome;
  }
}

const CUSTOMIZE_CACHE_TTL_MS = 20 * 60_000;

/** Customize responses per (parent uid, metadata.generation), kept 20 minutes like newResponseCache. */
export class CustomizeCache {
  private readonly entries = new Map<string, { at: number; rules: RelatedRule[] }>();

  get(parent: KubeObject, now: number): RelatedRule[] | undefined {
    const key = `${parent.metadata?.uid}/${parent.metadata?.generation ?? 0}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.at > CUSTOMIZE_CACHE_TTL_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.rules;
  }

  set(parent: KubeObject, rules: RelatedRule[], now: number): void {
    for (const [key, entry] of this.entries) if (now - entry.at > CUSTOMIZE_CACHE_TTL_MS) this.entries.delete(key);
    this.entries.set(`${parent.metadata?.uid}/${parent.metadata?.generation ?? 0}`, { at: now, rules });
  }
}

/** The related rules for this parent: [] without a customize hook, else the (cached) hook answer. */
export async function relatedRulesFor(hook: HookConfig | undefined, controller: KubeObject, parent: KubeObject, cache: CustomizeCache): Promise<RelatedRule[]> {
  if (hook === undefined) return [];
  const cached = cache.get(parent, Date.now());
  if (cached !== undefined) return cached;
  const answer = await callWebhook(hook.url, hook.timeoutMs, customizeRequest(controller, parent));
  if (answer.kind === 'throttled') throw new SyncStop({ result: 'throttled', afterSeconds: answer.afterSeconds });
  if (answer.kind === 'error') throw new SyncStop({ result: 'failed', error: `customize hook failed (version=v2): ${answer.message}` });
  const parsed = parseCustomizeResponse(answer.body);
  if (!parsed.ok) throw new SyncStop({ result: 'failed', error: `customize hook failed (version=v2): ${parsed.error}` });
  cache.set(parent, parsed.value.relatedResources, Date.now());
  return parsed.value.relatedResources;
}

/**
 * Calls a sync hook and parses its answer strictly. A hook error, an invalid answer or a 429 ends
 * the sync with nothing changed (SyncStop), carrying what the poller needs to retry it.
 */
export async function callSyncHook<T>(
  hook: HookConfig,
  payload: unknown,
  parse: (body: unknown) => Parsed<T>,
  fingerprint: string,
  relatedRules: RelatedRule[],
): Promise<T> {
  const answer = await callWebhook(hook.url, hook.timeoutMs, payload);
  if (answer.kind === 'throttled') throw new SyncStop({ result: 'throttled', fingerprint, relatedRules, afterSeconds: answer.afterSeconds });
  if (answer.kind === 'error') throw new SyncStop({ result: 'failed', fingerprint, relatedRules, error: `sync hook failed (version=v2): ${answer.message}` });
  const parsed = parse(answer.body);
  if (!parsed.ok) throw new SyncStop({ result: 'failed', fingerprint, relatedRules, error: `sync hook failed (version=v2): ${parsed.error}` });
  return parsed.value;
}

/** Source of objects by type: fresh API lists during a sync, the poller's snapshot otherwise. */
export type ListFn = (res: ResourceInfo, namespace?: string) => Promise<KubeObject[]>;

/** related: one group per rule, present even when empty (InitGroup). */
export async function collectRelated(discovery: Discovery, list: ListFn, rules: readonly RelatedRule[]): Promise<ObjectMap> {
  const related: ObjectMap = {};
  let namespaceLabels: Map<string, Record<string, string>> | undefined;
  if (usesNamespaceSelector(rules)) {
    const namespaces = await list(await discovery.resolve('v1', 'namespaces'));
    namespaceLabels = new Map(namespaces.map((ns) => [ns.metadata?.name ?? '', ns.metadata?.labels ?? {}]));
  }
  for (const rule of rules) {
    const res = await discovery.resolve(rule.apiVersion, rule.resource);
    const candidates = await list(res, listNamespace(rule, res.namespaced));
    const selected = selectRelated(rule, res.namespaced, candidates, (ns) => namespaceLabels?.get(ns));
    const map = buildObjectMap([{ kind: res.kind, apiVersion: res.apiVersion }], selected);
    const group = groupKey(res.kind, res.apiVersion);
    related[group] = { ...related[group], ...map[group] };
  }
  return related;
}

/** Resolves the resources of child or attachment rules, in rule order. */
export function resolveRules(discovery: Discovery, rules: readonly ChildRule[]): Promise<ResourceInfo[]> {
  return Promise.all(rules.map((rule) => discovery.resolve(rule.apiVersion, rule.resource)));
}

/** Runs a plan: every operation is attempted, failures are collected (utilerrors.NewAggregate). */
export async function executePlan(cluster: Cluster, resourceOf: (obj: KubeObject) => ResourceInfo, operations: readonly ChildOperation[], errors: string[]): Promise<ChangeCounts> {
  const counts: ChangeCounts = { creates: 0, deletes: 0, updates: 0 };
  for (const operation of operations) {
    try {
      switch (operation.op) {
        case 'delete':
          try {
            await cluster.delete(resourceOf(operation.obj), operation.obj);
            counts.deletes++;
          } catch (error) {
            if (!isStatus(error, 404)) throw error; // already gone
          }
          break;
        case 'create':
          try {
            await cluster.create(resourceOf(operation.obj), operation.obj);
            counts.creates++;
          } catch (error) {
            if (!(error instanceof KubeApiError && error.reason === 'AlreadyExists')) throw error;
          }
          break;
        case 'update': {
          const obj = operation.observed;
          try {
            await cluster.mergePatch(resourceOf(obj), obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', operation.patch);
            counts.updates++;
          } catch (error) {
            // Gone, or modified since it was read: the next sync sees the new state.
            if (!isStatus(error, 404) && !isStatus(error, 409)) throw error;
          }
          break;
        }
      }
    } catch (error) {
      const obj = operation.op === 'update' ? operation.observed : operation.obj;
      errors.push(`can't ${operation.op} ${describe(obj)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return counts;
}

/** Puts metadata.namespace on namespaced desired objects that lack one (applyNamespaceDefaults). */
export function defaultNamespace(obj: KubeObject, res: ResourceInfo, namespace: string): void {
  if (!res.namespaced || namespace === '') return;
  obj.metadata ??= {};
  if ((obj.metadata.namespace ?? '') === '') obj.metadata.namespace = namespace;
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
