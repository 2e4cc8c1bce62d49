// Hook API v2 object maps: {"Kind.apiVersion": {"namespace/name" | "name": object}}
// (UniformObjectMap in pkg/controller/common/api/v2/common.go).
import { nameOf, namespaceOf, type KubeObject } from './kube-types.ts';

export type ObjectMap = Record<string, Record<string, KubeObject>>;

/** "Job.batch/v1", "Pod.v1": Kind, a dot, then the apiVersion (api.GroupVersionKind.MarshalText). */
export const groupKey = (kind: string, apiVersion: string): string => `${kind}.${apiVersion}`;

/** v2 keys: namespace/name for namespaced objects, name for cluster-scoped ones. */
export function objectKey(obj: KubeObject): string {
  const namespace = namespaceOf(obj);
  return namespace === '' ? nameOf(obj) : `${namespace}/${nameOf(obj)}`;
}

/** Every group in `groups` is present even when empty, as InitGroup guarantees. */
export function buildObjectMap(groups: Iterable<{ kind: string; apiVersion: string }>, objects: Iterable<KubeObject>): ObjectMap {
  const map: ObjectMap = {};
  for (const group of groups) map[groupKey(group.kind, group.apiVersion)] ??= {};
  for (const obj of objects) insertObject(map, obj);
  return map;
}

export function insertObject(map: ObjectMap, obj: KubeObject): void {
  const group = (map[groupKey(obj.kind ?? '', obj.apiVersion ?? '')] ??= {});
  group[objectKey(obj)] = obj;
}

export function* objectsOf(map: ObjectMap): Generator<{ group: string; key: string; obj: KubeObject }> {
  for (const [group, objects] of Object.entries(map)) {
    for (const [key, obj] of Object.entries(objects)) yield { group, key, obj };
  }
}
