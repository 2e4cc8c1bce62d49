// Related objects a PVCRestore's sync needs: both Namespaces (ownership of the restored PVC and
// the source's permission to restore elsewhere), the target PVC (it must not exist unless this
// restore made it), the source PVC (default size) and the Pods of the restore Job; once finished,
// nothing (src/run/customize.ts).
import { specString } from '../kube/meta.ts';
import { RUN_UID_LABEL } from '../labels.ts';
import type { HookResult } from '../metacontroller/hook.ts';
import type { CustomizeRequest, CustomizeResponse, RelatedResourceRule } from '../metacontroller/types.ts';
import type { PVCRestore } from './types.ts';
import { finishedRunCustomize } from '../run/customize.ts';

/** A non-empty string field of the stored spec. */
function field(spec: unknown, key: string): string | undefined {
  const value = specString(spec, key);
  return value === '' ? undefined : value;
}

export function customizeRestore(request: CustomizeRequest<PVCRestore>): HookResult<CustomizeResponse> {
  const { metadata, spec, status } = request.parent;
  if (status?.result !== undefined) return finishedRunCustomize();
  const namespace = metadata.namespace ?? '';
  const sourcePvc = field(spec, 'sourcePvc');
  const sourceNamespace = field(spec, 'sourceNamespace') ?? namespace;
  const target = field(spec, 'targetPvc') ?? sourcePvc;
  const rules: RelatedResourceRule[] = [
    { apiVersion: 'v1', resource: 'namespaces', names: [...new Set([namespace, sourceNamespace])] },
  ];
  const pvcsHere = [target, sourceNamespace === namespace ? sourcePvc : undefined].filter((n): n is string => n !== undefined);
  if (pvcsHere.length > 0) rules.push({ apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace, names: [...new Set(pvcsHere)] });
  if (sourceNamespace !== namespace && sourcePvc !== undefined) {
    rules.push({ apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace: sourceNamespace, names: [sourcePvc] });
  }
  if (metadata.uid !== undefined) {
    rules.push({ apiVersion: 'v1', resource: 'pods', namespace, labelSelector: { matchLabels: { [RUN_UID_LABEL]: metadata.uid } } });
  }
  return { response: { relatedResources: rules }, decision: { reason: 'Related', rules: rules.length } };
}
