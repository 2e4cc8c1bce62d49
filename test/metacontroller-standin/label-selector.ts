// metav1.LabelSelector matching, as labels.Selector does it. DecoratorController annotation
// selectors reuse it: Metacontroller converts {matchAnnotations, matchExpressions} into a label
// selector and matches it against the annotations.

export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

export interface AnnotationSelector {
  matchAnnotations?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

/** Throws on selectors the API machinery would reject, so a bad spec is a visible error. */
export function validateSelector(selector: LabelSelector | null | undefined): void {
  for (const req of selector?.matchExpressions ?? []) {
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) throw new Error(`selector: operator ${req.operator} on ${req.key} needs values`);
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) throw new Error(`selector: operator ${req.operator} on ${req.key} takes no values`);
        break;
      default:
        throw new Error(`selector: unknown operator ${JSON.stringify(req.operator)}`);
    }
  }
}

/** A null or empty selector selects everything (labels.Everything()). */
export function matchesSelector(selector: LabelSelector | null | undefined, labels: Record<string, string> | undefined): boolean {
  validateSelector(selector);
  const set = labels ?? {};
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    if (set[key] !== value) return false;
  }
  for (const req of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(set, req.key);
    const value = set[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function annotationSelectorAsLabelSelector(selector: AnnotationSelector | null | undefined): LabelSelector | undefined {
  if (selector === null || selector === undefined) return undefined;
  const out: LabelSelector = {};
  if (selector.matchAnnotations !== undefined) out.matchLabels = selector.matchAnnotations;
  if (selector.matchExpressions !== undefined) out.matchExpressions = selector.matchExpressions;
  return out;
}

export function isEmptySelector(selector: LabelSelector | null | undefined): boolean {
  return Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0;
}
