// Which objects a customize hook's relatedResources rule selects, hook API v2
// (determineSelectionType / GetRelatedObjects in pkg/controller/common/customize/manager.go).
import type { RelatedRule } from './hook-response.ts';
import { nameOf, namespaceOf, type KubeObject } from './kube-types.ts';
import { matchesSelector } from './label-selector.ts';

export type SelectionType = 'Labels' | 'NamespaceAndLabels' | 'NamespaceSelector' | 'NamespaceAndNames';

export function selectionType(rule: RelatedRule): SelectionType {
  const hasLabels = rule.labelSelector !== undefined;
  const hasNamespaceSelector = rule.namespaceSelector !== undefined;
  const hasNamespace = (rule.namespace ?? '') !== '';
  const hasNames = (rule.names ?? []).length > 0;
  if (hasNames && (hasLabels || hasNamespaceSelector)) throw new Error(`related rule cannot have both names and labelSelector/namespaceSelector specified: ${JSON.stringify(rule)}`);
  if (hasNamespace && hasNamespaceSelector) throw new Error(`related rule cannot have both namespace and namespaceSelector specified: ${JSON.stringify(rule)}`);
  if (hasNamespaceSelector) return 'NamespaceSelector';
  if (hasLabels && hasNamespace) return 'NamespaceAndLabels';
  if (hasNamespace || hasNames) return 'NamespaceAndNames';
  return 'Labels';
}

/** The namespace to list in, or undefined for all namespaces (and for cluster-scoped resources). */
export function listNamespace(rule: RelatedRule, namespaced: boolean): string | undefined {
  const type = selectionType(rule);
  if (!namespaced || (type !== 'NamespaceAndLabels' && type !== 'NamespaceAndNames')) return undefined;
  return rule.namespace === undefined || rule.namespace === '' ? undefined : rule.namespace;
}

/**
 * Filters objects of the rule's resource. `namespaceLabels` answers the labels of a namespace
 * (undefined when it does not exist); only namespaceSelector rules use it.
 */
export function selectRelated(
  rule: RelatedRule,
  namespaced: boolean,
  candidates: readonly KubeObject[],
  namespaceLabels: (namespace: string) => Record<string, string> | undefined,
): KubeObject[] {
  const type = selectionType(rule);
  if (type === 'NamespaceSelector' && !namespaced) throw new Error('namespaceSelector is only supported for namespaced related resources');
  return candidates.filter((obj) => {
    switch (type) {
      case 'Labels':
        return matchesSelector(rule.labelSelector, obj.metadata?.labels);
      case 'NamespaceAndLabels':
        return matchesSelector(rule.labelSelector, obj.metadata?.labels) && (!namespaced || namespaceOf(obj) === rule.namespace);
      case 'NamespaceSelector': {
        if (!matchesSelector(rule.labelSelector, obj.metadata?.labels)) return false;
        const labels = namespaceLabels(namespaceOf(obj));
        return labels !== undefined && matchesSelector(rule.namespaceSelector, labels);
      }
      case 'NamespaceAndNames':
        if (namespaced && (rule.namespace ?? '') !== '' && namespaceOf(obj) !== rule.namespace) return false;
        return (rule.names ?? []).length === 0 || (rule.names ?? []).includes(nameOf(obj));
    }
  });
}

export const usesNamespaceSelector = (rules: readonly RelatedRule[]): boolean => rules.some((rule) => rule.namespaceSelector !== undefined);
