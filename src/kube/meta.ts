import type { Condition, KubeObject, OwnerReference } from './types.ts';

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function isOwnedBy(object: KubeObject, ownerUid: string | undefined): boolean {
  return ownerUid !== undefined && (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid);
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return (object.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
}

/** A string field of a spec that has not been validated (custom resources as stored). */
export function specString(spec: unknown, key: string): string | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const value = (spec as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

export function objectKey(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns === undefined || ns === '' ? object.metadata.name : `${ns}/${object.metadata.name}`;
}
