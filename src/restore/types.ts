import { formatTime, parseTime } from '../duration.ts';
import type { KubeObject } from '../kube/types.ts';
import type { PVCRestoreSpec, PVCRestoreStatus } from '../schema/pvcrestore.ts';

export interface PVCRestore extends KubeObject {
  apiVersion: 'backsnap.skyb.it/v1alpha1';
  kind: 'PVCRestore';
  /** Unvalidated as stored: the hook validates it before use. */
  spec?: unknown;
  status?: PVCRestoreStatus;
}

export type { PVCRestoreSpec, PVCRestoreStatus };

/** A PVCRestore spec with backsnap's defaults applied. */
export interface RestorePlan {
  name: string;
  namespace: string;
  uid: string;
  spec: PVCRestoreSpec;
  sourcePvc: string;
  sourceNamespace: string;
  sourceSnapshot: string;
  /** UTC, to the second (the restore script compares snapshot times with it as text). */
  restoreAsOf?: string;
  targetPvc: string;
}

export function planRestore(name: string, namespace: string, uid: string, spec: PVCRestoreSpec): RestorePlan | string {
  if (spec.sourcePvc === undefined) return 'spec.sourcePvc is required: it names the PVC whose backups are restored';
  const asOf = spec.restoreAsOf === undefined ? undefined : parseTime(spec.restoreAsOf);
  if (spec.restoreAsOf !== undefined && asOf === undefined) return `spec.restoreAsOf ${JSON.stringify(spec.restoreAsOf)} is not an RFC 3339 time`;
  if (asOf !== undefined && spec.sourceSnapshot !== undefined && spec.sourceSnapshot !== 'latest') return 'set either spec.sourceSnapshot or spec.restoreAsOf, not both';
  return {
    ...(asOf === undefined ? {} : { restoreAsOf: formatTime(asOf) }),
    name,
    namespace,
    uid,
    spec,
    sourcePvc: spec.sourcePvc,
    sourceNamespace: spec.sourceNamespace ?? namespace,
    sourceSnapshot: spec.sourceSnapshot ?? 'latest',
    targetPvc: spec.targetPvc ?? spec.sourcePvc,
  };
}
