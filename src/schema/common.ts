// Building blocks of the CRD schemas. They are written as Kubernetes structural OpenAPI v3
// (no patternProperties, no $ref), so the same objects serve as CRD schema, ajv schema and types.
import { Type, type TSchema } from '@sinclair/typebox';

/** Go `time.ParseDuration` syntax as metav1.Duration writes it (`72h0m0s`), plus a bare `0`. */
export const GO_DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$';
/** resource.Quantity, as controller-gen emits it for backsnap's CRDs. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
/** An object name (DNS-1123 subdomain), e.g. of a PVC. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A namespace name (DNS-1123 label). */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** A string enum as Kubernetes structural schemas want it (`type` + `enum`, not `anyOf` of consts). */
export function StringEnum<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description === undefined ? {} : { description }) });
}

export const ObjectName = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN_PATTERN });

export const NamespaceName = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 63, pattern: DNS_LABEL_PATTERN });

export const StringMap = (description: string, mapType?: 'atomic') =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    additionalProperties: { type: 'string' },
    ...(mapType === undefined ? {} : { 'x-kubernetes-map-type': mapType }),
  });

export const GoDuration = (description: string) => Type.String({ description, pattern: GO_DURATION_PATTERN });

export const Quantity = (description: string) =>
  Type.Unsafe<string | number>({
    description,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
  });

export const Toleration = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(Type.String()),
  tolerationSeconds: Type.Optional(Type.Integer({ format: 'int64' })),
});

/** The Pod placement and metadata fields that PVCBackup and PVCRestore share with backsnap. */
export function podPlacementFields(what: 'backup' | 'restore') {
  return {
    nodeSelector: Type.Optional(StringMap(`Node selector of the ${what} Pod.`, 'atomic')),
    tolerations: Type.Optional(
      Type.Array(Toleration, { description: `Tolerations of the ${what} Pod.`, 'x-kubernetes-list-type': 'atomic' }),
    ),
    priorityClassName: Type.Optional(Type.String({ description: `PriorityClass of the ${what} Pod.` })),
    labels: Type.Optional(StringMap(`Labels put on every object the ${what} creates.`)),
    annotations: Type.Optional(StringMap(`Annotations put on every object the ${what} creates.`)),
  };
}

export const Condition = Type.Object({
  type: Type.String(),
  status: StringEnum(['True', 'False', 'Unknown']),
  reason: Type.String(),
  message: Type.String(),
  lastTransitionTime: Type.String({ format: 'date-time' }),
});

/** The status fields of backsnap plus ours; backup and restore share them. */
export function runStatusFields<Phase extends TSchema>(phase: Phase) {
  return {
    phase: Type.Optional(phase),
    startedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the run started.' })),
    finishedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the run finished.' })),
    duration: Type.Optional(Type.String({ description: 'finishedAt - startedAt, in whole seconds (Go syntax).' })),
    result: Type.Optional(StringEnum(['Succeeded', 'Failed'], 'Whether the run succeeded (backsnap).')),
    message: Type.Optional(Type.String({ description: 'Human-readable state of the run.' })),
    snapshotId: Type.Optional(Type.String({ description: 'restic snapshot id written or read.' })),
    conditions: Type.Optional(
      Type.Array(Condition, {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    ),
    observedGeneration: Type.Optional(Type.Integer({ format: 'int64' })),
  };
}

export const RunPhase = StringEnum(['Pending', 'Running', 'Succeeded', 'Failed'], 'Where the run stands.');
