import type { KubeObject } from '../kube/types.ts';
import { identity } from './objects.ts';
import type { ObjectGroups } from './types.ts';

/** A hook's answer plus the one structured log line that explains the decision. */
export interface HookResult<Response> {
  response: Response;
  decision: { reason: string; [field: string]: unknown };
}

/**
 * The identity of every observed child, to keep them all: children use the OnDelete strategy,
 * so naming them keeps them unchanged, while leaving them out would make Metacontroller delete them.
 */
export function retainObserved(children: ObjectGroups): KubeObject[] {
  return Object.keys(children)
    .sort()
    .flatMap((group) => {
      const objects = children[group] ?? {};
      return Object.keys(objects)
        .sort()
        .map((key) => objects[key])
        .filter((o): o is KubeObject => o !== undefined)
        .map(identity);
    });
}

export function secondsUntil(deadline: number, now: Date): number {
  return Math.max(1, Math.ceil((deadline - now.getTime()) / 1000));
}
