// Which objects belong to a parent (composite children) or a target (decorator attachments), and
// the fingerprint that tells the poller whether anything a sync would see has changed.
import { createHash } from 'node:crypto';
import { controllerOf, namespaceOf, type KubeObject } from './kube-types.ts';
import { objectsOf, type ObjectMap } from './object-map.ts';

export const DECORATOR_ANNOTATION = 'metacontroller.k8s.io/decorator-controller';

/**
 * Children of a composite parent: objects whose controller ownerReference has the parent's uid,
 * in the parent's namespace (any namespace for a cluster-scoped parent). Orphan adoption and the
 * release of owned children that stopped matching the selector are not implemented.
 */
export function ownedChildren(objects: readonly KubeObject[], parent: KubeObject): KubeObject[] {
  const uid = parent.metadata?.uid;
  const namespace = namespaceOf(parent);
  return objects.filter((obj) => controllerOf(obj)?.uid === uid && (namespace === '' || namespaceOf(obj) === namespace));
}

/** Attachments of a decorator target: controlled by the target and annotated with the decorator's name. */
export function decoratorAttachments(objects: readonly KubeObject[], target: KubeObject, decoratorName: string): KubeObject[] {
  return ownedChildren(objects, target).filter((obj) => obj.metadata?.annotations?.[DECORATOR_ANNOTATION] === decoratorName);
}

/** Changes whenever the root or any object in the maps is added, removed or modified. */
export function fingerprint(root: KubeObject, ...maps: ObjectMap[]): string {
  const lines = [`${root.metadata?.uid}@${root.metadata?.resourceVersion}`];
  const entries: string[] = [];
  for (const map of maps) {
    for (const { group, key, obj } of objectsOf(map)) entries.push(`${group}|${key}|${obj.metadata?.uid}@${obj.metadata?.resourceVersion}`);
  }
  entries.sort();
  return createHash('sha256').update([...lines, ...entries].join('\n')).digest('hex');
}
