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

export function objectKey(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns === undefined || ns === '' ? object.metadata.name : `${ns}/${object.metadata.name}`;
}
