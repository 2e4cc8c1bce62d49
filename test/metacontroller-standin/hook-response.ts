// Strict parsing of hook responses, hook API v2. Metacontroller decodes v2 responses with
// sigs.k8s.io/json UnmarshalStrict: unknown (or differently cased) fields and wrong types fail the
// sync, a JSON null anywhere means the zero value. Duplicate JSON keys are not detected here
// (JSON.parse keeps the last one); a JavaScript hook cannot produce them anyway.
import { isPlainObject, type JsonObject, type KubeObject } from './kube-types.ts';
import type { LabelSelector, SelectorRequirement } from './label-selector.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface CompositeSyncResponse {
  status: JsonObject | null;
  children: KubeObject[];
  resyncAfterSeconds: number;
  finalized: boolean;
}

export interface DecoratorSyncResponse {
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
  status: JsonObject | null;
  attachments: KubeObject[];
  resyncAfterSeconds: number;
  finalized: boolean;
}

export interface RelatedRule {
  apiVersion: string;
  resource: string;
  namespace?: string;
  names?: string[];
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

export interface CustomizeResponse {
  relatedResources: RelatedRule[];
}

class ResponseError extends Error {}

function fail(message: string): never {
  throw new ResponseError(message);
}

function checkFields(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${where}: unknown field ${JSON.stringify(key)}`);
  }
}

function asObject(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isPlainObject(value)) fail(`${where}: expected an object`);
  return value;
}

function asNumber(value: unknown, where: string): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'number') fail(`${where}: expected a number`);
  return value;
}

function asBoolean(value: unknown, where: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== 'boolean') fail(`${where}: expected a boolean`);
  return value;
}

function asString(value: unknown, where: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') fail(`${where}: expected a string`);
  return value;
}

function asStringList(value: unknown, where: string): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(`${where}: expected an array`);
  return value.map((item, i) => asString(item, `${where}[${i}]`));
}

/** Children and attachments decode into unstructured objects: kind, apiVersion and a name are needed. */
function asObjectList(value: unknown, where: string): KubeObject[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(`${where}: expected an array`);
  return value.map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isPlainObject(item)) fail(`${at}: expected an object`);
    if (typeof item['kind'] !== 'string' || item['kind'] === '') fail(`${at}: Object 'Kind' is missing`);
    if (typeof item['apiVersion'] !== 'string' || item['apiVersion'] === '') fail(`${at}: Object 'apiVersion' is missing`);
    const metadata = item['metadata'];
    if (!isPlainObject(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') {
      fail(`${at}: metadata.name is required`);
    }
    return structuredClone(item) as KubeObject;
  });
}

function asStringOrNullMap(value: unknown, where: string): Record<string, string | null> {
  const object = asObject(value, where) ?? {};
  const out: Record<string, string | null> = {};
  for (const [key, item] of Object.entries(object)) {
    if (item !== null && typeof item !== 'string') fail(`${where}.${key}: expected a string or null`);
    out[key] = item;
  }
  return out;
}

function asStatus(value: unknown, where: string): JsonObject | null {
  const object = asObject(value, where);
  return object === undefined ? null : (structuredClone(object) as JsonObject);
}

function asSelector(value: unknown, where: string): LabelSelector | undefined {
  const object = asObject(value, where);
  if (object === undefined) return undefined;
  checkFields(object, ['matchLabels', 'matchExpressions'], where);
  const selector: LabelSelector = {};
  const labels = asStringOrNullMap(object['matchLabels'], `${where}.matchLabels`);
  if (Object.keys(labels).length > 0) {
    selector.matchLabels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? '']));
  }
  const expressions = object['matchExpressions'];
  if (expressions !== null && expressions !== undefined) {
    if (!Array.isArray(expressions)) fail(`${where}.matchExpressions: expected an array`);
    selector.matchExpressions = expressions.map((item, i): SelectorRequirement => {
      const at = `${where}.matchExpressions[${i}]`;
      const req = asObject(item, at) ?? {};
      checkFields(req, ['key', 'operator', 'values'], at);
      return { key: asString(req['key'], `${at}.key`), operator: asString(req['operator'], `${at}.operator`), values: asStringList(req['values'], `${at}.values`) };
    });
  }
  return selector;
}

function asRelatedRule(value: unknown, where: string): RelatedRule {
  const object = asObject(value, where) ?? {};
  checkFields(object, ['apiVersion', 'resource', 'labelSelector', 'namespaceSelector', 'namespace', 'names'], where);
  const rule: RelatedRule = { apiVersion: asString(object['apiVersion'], `${where}.apiVersion`), resource: asString(object['resource'], `${where}.resource`) };
  const namespace = asString(object['namespace'], `${where}.namespace`);
  if (namespace !== '') rule.namespace = namespace;
  const names = asStringList(object['names'], `${where}.names`);
  if (names.length > 0) rule.names = names;
  const labelSelector = asSelector(object['labelSelector'], `${where}.labelSelector`);
  if (labelSelector !== undefined) rule.labelSelector = labelSelector;
  const namespaceSelector = asSelector(object['namespaceSelector'], `${where}.namespaceSelector`);
  if (namespaceSelector !== undefined) rule.namespaceSelector = namespaceSelector;
  return rule;
}

function parse<T>(body: unknown, build: (object: Record<string, unknown>) => T): Parsed<T> {
  try {
    return { ok: true, value: build(asObject(body, 'response') ?? {}) };
  } catch (error) {
    if (error instanceof ResponseError) return { ok: false, error: `strict validation failed: ${error.message}` };
    throw error;
  }
}

export function parseCompositeSyncResponse(body: unknown): Parsed<CompositeSyncResponse> {
  return parse(body, (object) => {
    checkFields(object, ['status', 'children', 'resyncAfterSeconds', 'finalized'], 'response');
    return {
      status: asStatus(object['status'], 'status'),
      children: asObjectList(object['children'], 'children'),
      resyncAfterSeconds: asNumber(object['resyncAfterSeconds'], 'resyncAfterSeconds'),
      finalized: asBoolean(object['finalized'], 'finalized'),
    };
  });
}

export function parseDecoratorSyncResponse(body: unknown): Parsed<DecoratorSyncResponse> {
  return parse(body, (object) => {
    checkFields(object, ['labels', 'annotations', 'status', 'attachments', 'resyncAfterSeconds', 'finalized'], 'response');
    return {
      labels: asStringOrNullMap(object['labels'], 'labels'),
      annotations: asStringOrNullMap(object['annotations'], 'annotations'),
      status: asStatus(object['status'], 'status'),
      attachments: asObjectList(object['attachments'], 'attachments'),
      resyncAfterSeconds: asNumber(object['resyncAfterSeconds'], 'resyncAfterSeconds'),
      finalized: asBoolean(object['finalized'], 'finalized'),
    };
  });
}

export function parseCustomizeResponse(body: unknown): Parsed<CustomizeResponse> {
  return parse(body, (object) => {
    checkFields(object, ['relatedResources'], 'response');
    const rules = object['relatedResources'];
    if (rules !== null && rules !== undefined && !Array.isArray(rules)) fail('relatedResources: expected an array');
    return { relatedResources: (rules ?? []).map((rule: unknown, i: number) => asRelatedRule(rule, `relatedResources[${i}]`)) };
  });
}
