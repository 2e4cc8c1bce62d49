import type { KubeObject } from '../kube/types.ts';
import type { ObjectGroups } from './types.ts';

/** Group key of a kind in request maps: `Kind.apiVersion`, e.g. `Job.batch/v1`, `Pod.v1`. */
export function groupKey(kind: string, apiVersion: string): string {
  return `${kind}.${apiVersion}`;
}

/** All objects of one kind from a request map, in a stable order (by key). */
export function objectsOf<T extends KubeObject>(groups: ObjectGroups, kind: T['kind'], apiVersion: T['apiVersion']): T[] {
  const group = groups[groupKey(kind, apiVersion)] ?? {};
  return Object.keys(group)
    .sort()
    .map((key) => group[key] as T);
}

/** The object of a kind with a given namespace and name, if observed. */
export function findObject<T extends KubeObject>(
  groups: ObjectGroups,
  kind: T['kind'],
  apiVersion: T['apiVersion'],
  namespace: string | undefined,
  name: string,
): T | undefined {
  const key = namespace === undefined ? name : `${namespace}/${name}`;
  return groups[groupKey(kind, apiVersion)]?.[key] as T | undefined;
}

/** A child as a response names it to keep it unchanged (children use the OnDelete strategy). */
export function identity(object: KubeObject): KubeObject {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) },
  };
}

/** The identities of the observed objects of one kind, in a stable order. */
export function identitiesOf(groups: ObjectGroups, kind: string, apiVersion: string): KubeObject[] {
  return objectsOf(groups, kind, apiVersion).map(identity);
}
