// Hook request bodies, hook API v2 (pkg/controller/{composite,decorator}/api/v2/hooks.go and
// pkg/controller/common/customize/api/v2/hooks.go). Field names are exact: decorators get
// `object`/`attachments`, and the customize request says `parent` for both controller kinds.
import type { KubeObject } from './kube-types.ts';
import type { ObjectMap } from './object-map.ts';

export interface CompositeSyncRequest {
  controller: KubeObject;
  parent: KubeObject;
  children: ObjectMap;
  related: ObjectMap;
  finalizing: boolean;
}

export interface DecoratorSyncRequest {
  controller: KubeObject;
  object: KubeObject;
  attachments: ObjectMap;
  related: ObjectMap;
  finalizing: boolean;
}

export interface CustomizeRequest {
  controller: KubeObject;
  parent: KubeObject;
}

export const compositeSyncRequest = (controller: KubeObject, parent: KubeObject, children: ObjectMap, related: ObjectMap): CompositeSyncRequest => ({
  controller,
  parent,
  children,
  related,
  finalizing: false,
});

export const decoratorSyncRequest = (controller: KubeObject, object: KubeObject, attachments: ObjectMap, related: ObjectMap): DecoratorSyncRequest => ({
  controller,
  object,
  attachments,
  related,
  finalizing: false,
});

export const customizeRequest = (controller: KubeObject, parent: KubeObject): CustomizeRequest => ({ controller, parent });
