// Shapes of the Kubernetes objects the stand-in handles. Objects stay unstructured (any kind can be
// a parent, child, attachment or related object), so only the metadata the stand-in reads is typed.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** What discovery says about one resource of one API version. */
export interface ResourceInfo {
  apiVersion: string;
  /** Plural, lowercase resource name as used in URLs. */
  resource: string;
  kind: string;
  namespaced: boolean;
  hasStatus: boolean;
}

export const nameOf = (obj: KubeObject): string => obj.metadata?.name ?? '';
export const namespaceOf = (obj: KubeObject): string => obj.metadata?.namespace ?? '';
export const uidOf = (obj: KubeObject): string => obj.metadata?.uid ?? '';

/** The ownerReference with controller: true, as metav1.GetControllerOf finds it. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
