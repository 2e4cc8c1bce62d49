// Reading CompositeController and DecoratorController objects into what the stand-in runs.
// Anything the stand-in does not implement is either rejected (the controller is not run, with a
// logged reason) or reported as a warning, never silently treated as something else.
import { isPlainObject, type KubeObject } from './kube-types.ts';
import { validateSelector, type AnnotationSelector, type LabelSelector } from './label-selector.ts';
import { webhookOf, webhookTimeoutMs, webhookUrl } from './webhook.ts';

export interface HookConfig {
  url: string;
  timeoutMs: number;
}

export interface ChildRule {
  apiVersion: string;
  resource: string;
  /** updateStrategy.method; '' means the default, OnDelete. */
  method: string;
}

interface CommonConfig {
  name: string;
  /** The controller object as read, sent as `controller` in every hook request. */
  object: KubeObject;
  resyncPeriodSeconds: number;
  sync: HookConfig;
  customize?: HookConfig;
  warnings: string[];
}

export interface CompositeConfig extends CommonConfig {
  type: 'composite';
  parent: { apiVersion: string; resource: string; labelSelector?: LabelSelector };
  children: ChildRule[];
  generateSelector: boolean;
}

export interface DecoratorResourceRule {
  apiVersion: string;
  resource: string;
  labelSelector?: LabelSelector;
  annotationSelector?: AnnotationSelector;
}

export interface DecoratorConfig extends CommonConfig {
  type: 'decorator';
  resources: DecoratorResourceRule[];
  attachments: ChildRule[];
}

export type ControllerConfig = CompositeConfig | DecoratorConfig;

function record(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${what} is required`);
  return value;
}

function parseHook(hooks: Record<string, unknown>, name: string, required: boolean): HookConfig | undefined {
  const hook = hooks[name];
  const webhook = webhookOf(hook);
  if (webhook === undefined) {
    if (required) throw new Error(`spec.hooks.${name}.webhook is required`);
    return undefined;
  }
  const version = record(hook)['version'] ?? 'v1';
  if (version !== 'v2') throw new Error(`spec.hooks.${name}.version is ${JSON.stringify(version)}: the stand-in implements hook API v2 only`);
  return { url: webhookUrl(webhook), timeoutMs: webhookTimeoutMs(webhook) };
}

function parseChildRules(value: unknown, what: string, allowed: readonly string[]): ChildRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${what} must be a list`);
  return value.map((item, i) => {
    const rule = record(item);
    const method = record(rule['updateStrategy'])['method'] ?? '';
    if (typeof method !== 'string' || (method !== '' && !allowed.includes(method))) {
      throw new Error(`${what}[${i}].updateStrategy.method ${JSON.stringify(method)} is not supported`);
    }
    return { apiVersion: str(rule['apiVersion'], `${what}[${i}].apiVersion`), resource: str(rule['resource'], `${what}[${i}].resource`), method };
  });
}

function parseCommon(obj: KubeObject, warnings: string[]): Omit<CommonConfig, 'object' | 'name'> & { spec: Record<string, unknown> } {
  const spec = record(obj['spec']);
  const hooks = record(spec['hooks']);
  if (webhookOf(hooks['finalize']) !== undefined) warnings.push('hooks.finalize is not implemented by the stand-in: no finalizer is added and the hook is never called');
  for (const [hookName, hook] of Object.entries(hooks)) {
    const webhook = record(record(hook)['webhook']);
    if (webhook['etag'] !== undefined) warnings.push(`hooks.${hookName}.webhook.etag is ignored by the stand-in`);
    if (webhook['responseUnMarshallMode'] !== undefined) warnings.push(`hooks.${hookName}.webhook.responseUnMarshallMode is ignored: v2 responses are always parsed strictly`);
  }
  if (spec['endpointConfigs'] !== undefined) warnings.push('endpointConfigs (TLS, auth) are ignored by the stand-in');
  const resync = spec['resyncPeriodSeconds'];
  const config: Omit<CommonConfig, 'object' | 'name'> & { spec: Record<string, unknown> } = {
    spec,
    // The informer resync has a 1 s minimum.
    resyncPeriodSeconds: typeof resync === 'number' && resync > 0 ? Math.max(1, resync) : 0,
    sync: parseHook(hooks, 'sync', true) as HookConfig,
    warnings,
  };
  const customize = parseHook(hooks, 'customize', false);
  if (customize !== undefined) config.customize = customize;
  return config;
}

export function parseCompositeController(obj: KubeObject): CompositeConfig {
  const warnings: string[] = [];
  const { spec, ...common } = parseCommon(obj, warnings);
  const parent = record(spec['parentResource']);
  const labelSelector = parent['labelSelector'] as LabelSelector | undefined;
  validateSelector(labelSelector);
  if (parent['ignoreStatusChanges'] === true) warnings.push('parentResource.ignoreStatusChanges is not implemented: status writes trigger syncs');
  if (spec['generateSelector'] !== true) warnings.push('generateSelector is false: orphans are not adopted and non-matching children are not released by the stand-in');
  const config: CompositeConfig = {
    type: 'composite',
    name: str(obj.metadata?.name, 'metadata.name'),
    object: obj,
    ...common,
    parent: { apiVersion: str(parent['apiVersion'], 'spec.parentResource.apiVersion'), resource: str(parent['resource'], 'spec.parentResource.resource') },
    children: parseChildRules(spec['childResources'], 'spec.childResources', ['OnDelete', 'Recreate', 'InPlace', 'RollingRecreate', 'RollingInPlace']),
    generateSelector: spec['generateSelector'] === true,
  };
  if (labelSelector !== undefined) config.parent.labelSelector = labelSelector;
  if (config.children.some((c) => c.method.startsWith('Rolling'))) warnings.push('Rolling* update methods behave like Recreate/InPlace in the stand-in (no ControllerRevisions)');
  return config;
}

export function parseDecoratorController(obj: KubeObject): DecoratorConfig {
  const warnings: string[] = [];
  const { spec, ...common } = parseCommon(obj, warnings);
  const resources = spec['resources'];
  if (!Array.isArray(resources) || resources.length === 0) throw new Error('spec.resources must list at least one resource');
  if (resources.some((r) => isPlainObject(r) && r['ignoreStatusChanges'] === true)) warnings.push('resources[].ignoreStatusChanges is not implemented: status writes trigger syncs');
  return {
    type: 'decorator',
    name: str(obj.metadata?.name, 'metadata.name'),
    object: obj,
    ...common,
    resources: resources.map((item, i) => {
      const rule = record(item);
      const out: DecoratorResourceRule = { apiVersion: str(rule['apiVersion'], `spec.resources[${i}].apiVersion`), resource: str(rule['resource'], `spec.resources[${i}].resource`) };
      if (rule['labelSelector'] !== undefined && rule['labelSelector'] !== null) out.labelSelector = rule['labelSelector'] as LabelSelector;
      if (rule['annotationSelector'] !== undefined && rule['annotationSelector'] !== null) out.annotationSelector = rule['annotationSelector'] as AnnotationSelector;
      validateSelector(out.labelSelector);
      validateSelector(out.annotationSelector === undefined ? undefined : { matchExpressions: out.annotationSelector.matchExpressions ?? [] });
      return out;
    }),
    attachments: parseChildRules(spec['attachments'], 'spec.attachments', ['OnDelete', 'Recreate', 'InPlace']),
  };
}
