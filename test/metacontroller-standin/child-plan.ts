// What ManageChildren (pkg/controller/common/manage_children.go, dynamic-apply strategy) would do
// with observed and desired children: deletes first, then creates and updates. Pure, so the I/O
// side only executes the list.
import { applyUpdate, createMergePatch, deepEqual, setLastApplied, withoutLastApplied } from './apply-merge.ts';
import type { KubeObject, OwnerReference } from './kube-types.ts';
import type { ObjectMap } from './object-map.ts';

export type ChildOperation =
  | { op: 'delete'; obj: KubeObject; reason: 'not desired' | 'recreate' }
  | { op: 'create'; obj: KubeObject }
  | { op: 'update'; observed: KubeObject; patch: Record<string, unknown> };

export interface ChildPlan {
  operations: ChildOperation[];
  /** Problems with single children; the rest of the plan still runs (errors are aggregated). */
  errors: string[];
}

export interface PlanInput {
  observed: ObjectMap;
  desired: ObjectMap;
  /** Update method of a child type; Metacontroller looks it up by group and kind, not version. */
  methodOf(apiVersion: string, kind: string): string;
  /** Appended to every created child unless an ownerReference with its uid is there already. */
  controllerRef: OwnerReference;
}

const sortedEntries = <T>(record: Record<string, T>): [string, T][] => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function planChildren(input: PlanInput): ChildPlan {
  const operations: ChildOperation[] = [];
  const errors: string[] = [];

  for (const [group, objects] of sortedEntries(input.observed)) {
    for (const [key, obj] of sortedEntries(objects)) {
      if (obj.metadata?.deletionTimestamp !== undefined) continue; // already going away
      if (input.desired[group]?.[key] === undefined) operations.push({ op: 'delete', obj, reason: 'not desired' });
    }
  }

  for (const [group, objects] of sortedEntries(input.desired)) {
    for (const [key, desired] of sortedEntries(objects)) {
      const observed = input.observed[group]?.[key];
      if (observed === undefined) {
        operations.push({ op: 'create', obj: prepareCreate(desired, input.controllerRef) });
        continue;
      }
      let updated: KubeObject;
      try {
        updated = applyUpdate(observed, desired);
      } catch (error) {
        errors.push(`${describe(desired)}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (deepEqual(updated, observed)) continue;
      if (observed.metadata?.deletionTimestamp !== undefined) continue; // wait for it to be gone
      const method = input.methodOf(desired.apiVersion ?? '', desired.kind ?? '');
      switch (method) {
        case '':
        case 'OnDelete':
          break;
        case 'Recreate':
        case 'RollingRecreate':
          operations.push({ op: 'delete', obj: observed, reason: 'recreate' });
          break;
        case 'InPlace':
        case 'RollingInPlace': {
          const patch = createMergePatch(observed, updated);
          // The observed resourceVersion makes the write conditional, like the Update Metacontroller
          // sends with its cached object; a conflict is then ignored and the next sync retries.
          patch['metadata'] = { ...(patch['metadata'] as Record<string, unknown> | undefined), resourceVersion: observed.metadata?.resourceVersion };
          operations.push({ op: 'update', observed, patch });
          break;
        }
        default:
          errors.push(`invalid update strategy for ${desired.kind}: unknown method ${JSON.stringify(method)}`);
      }
    }
  }
  return { operations, errors };
}

/** The last-applied annotation records the desired object before the controller ref is added. */
export function prepareCreate(desired: KubeObject, controllerRef: OwnerReference): KubeObject {
  const obj = withoutLastApplied(desired);
  setLastApplied(obj, withoutLastApplied(desired));
  obj.metadata ??= {};
  const refs = obj.metadata.ownerReferences ?? [];
  if (!refs.some((ref) => ref.uid === controllerRef.uid)) obj.metadata.ownerReferences = [...refs, controllerRef];
  return obj;
}

export function makeControllerRef(parent: KubeObject): OwnerReference {
  return {
    apiVersion: parent.apiVersion ?? '',
    kind: parent.kind ?? '',
    name: parent.metadata?.name ?? '',
    uid: parent.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function describe(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? '?'} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'}`;
}
