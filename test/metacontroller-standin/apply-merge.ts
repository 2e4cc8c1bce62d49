// Metacontroller's client-side "kubectl apply" (pkg/dynamic/apply, ApplyUpdate in
// manage_children.go): 3-way merge of observed, last-applied and desired, with read-only metadata
// and status reverted, so an unchanged desired object never causes a write. Plus the RFC 7386
// merge patch that carries the result to the API server.
import { isPlainObject, type KubeObject } from './kube-types.ts';

export const LAST_APPLIED_ANNOTATION = 'metacontroller.k8s.io/last-applied-configuration';

type Value = unknown;
type Obj = Record<string, unknown>;

export function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

// Guessed list-map keys, in order of precedence (knownMergeKeys in apply.go).
const KNOWN_MERGE_KEYS = ['containerPort', 'port', 'mountPath', 'name', 'uid', 'ip', 'path'];

function detectListMapKey(...lists: unknown[][]): string {
  let common: Set<string> | undefined;
  for (const list of lists) {
    for (const item of list) {
      if (!isPlainObject(item)) return '';
      if (common === undefined) common = new Set(Object.keys(item));
      else for (const key of common) if (!Object.hasOwn(item, key)) common.delete(key);
    }
  }
  return KNOWN_MERGE_KEYS.find((key) => common?.has(key)) ?? '';
}

const mergeKeyString = (value: unknown): string => (typeof value === 'string' ? value : String(value));

function listToMap(key: string, list: unknown[]): Obj {
  const out: Obj = {};
  for (const item of list) out[mergeKeyString((item as Obj)[key])] = item;
  return out;
}

function mergeValue(path: string, destination: Value, lastApplied: Value, desired: Value): Value {
  if (isPlainObject(destination)) {
    if (lastApplied !== null && lastApplied !== undefined && !isPlainObject(lastApplied)) throw new Error(`lastApplied${path}: expecting an object`);
    if (desired !== null && desired !== undefined && !isPlainObject(desired)) throw new Error(`desired${path}: expecting an object`);
    return mergeObject(path, destination, (lastApplied ?? {}) as Obj, (desired ?? {}) as Obj);
  }
  if (Array.isArray(destination)) {
    if (lastApplied !== null && lastApplied !== undefined && !Array.isArray(lastApplied)) throw new Error(`lastApplied${path}: expecting an array`);
    if (desired !== null && desired !== undefined && !Array.isArray(desired)) throw new Error(`desired${path}: expecting an array`);
    const last = (lastApplied ?? []) as unknown[];
    const des = (desired ?? []) as unknown[];
    const key = detectListMapKey(destination, last, des);
    if (key === '') return desired; // a plain array is replaced
    return mergeListMap(path, key, destination, last, des);
  }
  return desired;
}

function mergeObject(path: string, destination: Obj, lastApplied: Obj, desired: Obj): Obj {
  for (const key of Object.keys(lastApplied)) if (!Object.hasOwn(desired, key)) delete destination[key];
  for (const [key, value] of Object.entries(desired)) {
    destination[key] = mergeValue(`${path}[${key}]`, destination[key], lastApplied[key], value);
  }
  return destination;
}

function mergeListMap(path: string, key: string, destination: unknown[], lastApplied: unknown[], desired: unknown[]): unknown[] {
  const merged = mergeObject(path, listToMap(key, destination), listToMap(key, lastApplied), listToMap(key, desired));
  // Keep the order of existing items, then append new ones in desired order.
  const out: unknown[] = [];
  const added = new Set<string>();
  for (const item of [...destination, ...desired]) {
    const k = mergeKeyString((item as Obj)[key]);
    if (Object.hasOwn(merged, k) && !added.has(k)) {
      out.push(merged[k]);
      added.add(k);
    }
  }
  return out;
}

/** apply.Merge: returns an updated copy of observed. */
export function threeWayMerge(observed: Obj, lastApplied: Obj | undefined, desired: Obj): Obj {
  return mergeObject('', structuredClone(observed), lastApplied ?? {}, desired);
}

const OBJECT_META_SYSTEM_FIELDS = ['selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields'];

function revert(target: Obj, original: Obj, path: string[]): void {
  let from: unknown = original;
  for (const part of path) from = isPlainObject(from) ? from[part] : undefined;
  const parentPath = path.slice(0, -1);
  const leaf = path[path.length - 1] ?? '';
  let parent: Obj = target;
  for (const part of parentPath) {
    if (!isPlainObject(parent[part])) {
      if (from === undefined) return; // nothing to remove below a missing parent
      parent[part] = {};
    }
    parent = parent[part] as Obj;
  }
  if (from === undefined) delete parent[leaf];
  else parent[leaf] = structuredClone(from);
}

export function getLastApplied(obj: KubeObject): Obj | undefined {
  const text = obj.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (text === undefined || text === '') return undefined;
  const parsed: unknown = JSON.parse(text);
  if (!isPlainObject(parsed)) throw new Error(`can't unmarshal ${LAST_APPLIED_ANNOTATION} annotation`);
  return parsed;
}

/** The desired object as recorded in the annotation: without the annotation itself. */
export function withoutLastApplied(desired: KubeObject): KubeObject {
  const copy = structuredClone(desired);
  const annotations = copy.metadata?.annotations;
  if (annotations !== undefined && Object.hasOwn(annotations, LAST_APPLIED_ANNOTATION)) {
    delete annotations[LAST_APPLIED_ANNOTATION];
  }
  return copy;
}

/** JSON with object keys sorted, as Go's json.Marshal writes maps: the annotation must not change with key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (isPlainObject(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function setLastApplied(obj: KubeObject, lastApplied: KubeObject): void {
  obj.metadata ??= {};
  obj.metadata.annotations = { ...obj.metadata.annotations, [LAST_APPLIED_ANNOTATION]: canonicalJson(lastApplied) };
}

/** ApplyUpdate: what the object should become; deep-equal to observed when nothing changes. */
export function applyUpdate(observed: KubeObject, desired: KubeObject): KubeObject {
  const update = withoutLastApplied(desired);
  const merged = threeWayMerge(observed as Obj, getLastApplied(observed), update as Obj) as KubeObject;
  for (const field of OBJECT_META_SYSTEM_FIELDS) revert(merged as Obj, observed as Obj, ['metadata', field]);
  revert(merged as Obj, observed as Obj, ['status']);
  setLastApplied(merged, update);
  return merged;
}

/** RFC 7386 merge patch turning `from` into `to` (objects recurse, arrays and scalars replace). */
export function createMergePatch(from: Obj, to: Obj): Obj {
  const patch: Obj = {};
  for (const key of Object.keys(from)) if (!Object.hasOwn(to, key)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const old = from[key];
    if (isPlainObject(old) && isPlainObject(value)) {
      const nested = createMergePatch(old, value);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (!Object.hasOwn(from, key) || !deepEqual(old, value)) {
      patch[key] = value;
    }
  }
  return patch;
}
