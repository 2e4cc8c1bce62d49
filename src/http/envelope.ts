// Shape checks of Metacontroller requests: just enough to rule out a malformed body (HTTP 400).
// Kubernetes objects keep every field (no additionalProperties: false, no removal, no coercion).
import { Ajv } from 'ajv';

const ajv = new Ajv({ allErrors: true, strict: true });

const kubeObject = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, namespace: { type: 'string' }, uid: { type: 'string' } },
    },
  },
} as const;

const objectGroups = {
  type: 'object',
  additionalProperties: { type: 'object', additionalProperties: kubeObject },
} as const;

const controller = { type: 'object', required: ['metadata'], properties: { metadata: { type: 'object' } } } as const;

export const validateCompositeSync = ajv.compile<unknown>({
  type: 'object',
  required: ['controller', 'parent', 'children'],
  properties: { controller, parent: kubeObject, children: objectGroups, related: objectGroups, finalizing: { type: 'boolean' } },
});

export const validateDecoratorSync = ajv.compile<unknown>({
  type: 'object',
  required: ['controller', 'object', 'attachments'],
  properties: { controller, object: kubeObject, attachments: objectGroups, related: objectGroups, finalizing: { type: 'boolean' } },
});

export const validateCustomize = ajv.compile<unknown>({
  type: 'object',
  required: ['controller', 'parent'],
  properties: { controller, parent: kubeObject },
});

export function describeErrors(errors: typeof validateCustomize.errors): string {
  return (errors ?? []).map((e) => `body${e.instancePath.replaceAll('/', '.')} ${e.message ?? 'is invalid'}`).join('; ');
}
