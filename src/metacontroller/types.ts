// Metacontroller hook API, version v2 (Metacontroller >= 4.15): object maps are keyed
// `namespace/name` (cluster-scoped objects: `name`) and grouped by `Kind.apiVersion`.
import type { KubeObject } from '../kube/types.ts';

/** `{"Job.batch/v1": {"ns/name": {...}}}` */
export type ObjectGroups = Record<string, Record<string, KubeObject>>;

export interface ControllerObject {
  apiVersion: string;
  kind: 'CompositeController' | 'DecoratorController';
  metadata: { name: string };
}

export interface CompositeSyncRequest<Parent extends KubeObject = KubeObject> {
  controller: ControllerObject;
  parent: Parent;
  children: ObjectGroups;
  /** Metacontroller sends `{}` without a customize hook; absent is read the same way. */
  related?: ObjectGroups;
  finalizing?: boolean;
}

/** Strictly parsed by Metacontroller for v2 hooks: no other field may appear. */
export interface CompositeSyncResponse<Status> {
  status: Status;
  children: KubeObject[];
  resyncAfterSeconds?: number;
}

export interface DecoratorSyncRequest<Target extends KubeObject = KubeObject> {
  controller: ControllerObject;
  object: Target;
  attachments: ObjectGroups;
  related?: ObjectGroups;
  finalizing?: boolean;
}

export interface DecoratorSyncResponse {
  labels?: Record<string, string | null>;
  annotations?: Record<string, string | null>;
  attachments: KubeObject[];
  resyncAfterSeconds?: number;
}

/** The customize request names its object `parent`, for decorators too. */
export interface CustomizeRequest<Parent extends KubeObject = KubeObject> {
  controller: ControllerObject;
  parent: Parent;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface RelatedResourceRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: LabelSelector;
}

export interface CustomizeResponse {
  relatedResources: RelatedResourceRule[];
}
