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
  targetPvc: string;
}

export function planRestore(name: string, namespace: string, uid: string, spec: PVCRestoreSpec): RestorePlan | string {
  if (spec.sourcePvc === undefined) return 'spec.sourcePvc is required: it names the PVC whose backups are restored';
  return {
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
