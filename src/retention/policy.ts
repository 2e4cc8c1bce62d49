// Retention policies in words a user can read — `last=1,hourly=12,daily=7,weekly=2,monthly=2`,
// `within=30d`, or `all` (forget nothing) — and the `restic forget` flags they stand for. The
// effective policy of a PVC comes from its annotation, else its Namespace's, else the operator's
// default (the same precedence as the schedule). An invalid policy is an error to report, never
// "keep nothing": forget then does not run at all.
import { RETENTION_ANNOTATION } from '../labels.ts';
import type { Namespace, PersistentVolumeClaim } from '../kube/types.ts';

const COUNTS = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type CountKey = (typeof COUNTS)[number];

/** What forget keeps; `keepAll` means forget is not run. */
export type RetentionPolicy = { keepAll: true } | { keepAll: false; counts: Partial<Record<CountKey, number>>; within?: string };

export type ParsedPolicy = { ok: true; policy: RetentionPolicy } | { ok: false; message: string };

/** restic's duration syntax for --keep-within: years, months, days, hours, e.g. `30d`, `1y6m`. */
const WITHIN = /^(\d+y)?(\d+m)?(\d+d)?(\d+h)?$/;

export function parsePolicy(text: string): ParsedPolicy {
  const trimmed = text.trim();
  if (trimmed === 'all') return { ok: true, policy: { keepAll: true } };
  if (trimmed === '') return { ok: false, message: 'the policy is empty; write e.g. last=1,daily=7 or all' };
  const counts: Partial<Record<CountKey, number>> = {};
  let within: string | undefined;
  const seen = new Set<string>();
  for (const part of trimmed.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*([0-9a-z]+)\s*$/.exec(part);
    if (match === null) return { ok: false, message: `${JSON.stringify(part.trim())} is not key=value` };
    const [, key = '', value = ''] = match;
    if (seen.has(key)) return { ok: false, message: `${key} is given twice` };
    seen.add(key);
    if (key === 'within') {
      if (!WITHIN.test(value) || !/\d/.test(value)) return { ok: false, message: `within=${value} is not a duration such as 30d, 12h or 1y6m` };
      within = value;
    } else if ((COUNTS as readonly string[]).includes(key)) {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < 1) return { ok: false, message: `${key}=${value} must be a whole number of at least 1` };
      counts[key as CountKey] = n;
    } else {
      return { ok: false, message: `unknown rule ${key}: use ${[...COUNTS, 'within'].join(', ')} (or the whole policy all)` };
    }
  }
  return { ok: true, policy: { keepAll: false, counts, ...(within === undefined ? {} : { within }) } };
}

/** The canonical spelling, e.g. for the status. */
export function formatPolicy(policy: RetentionPolicy): string {
  if (policy.keepAll) return 'all';
  const parts = COUNTS.filter((k) => policy.counts[k] !== undefined).map((k) => `${k}=${policy.counts[k]}`);
  if (policy.within !== undefined) parts.push(`within=${policy.within}`);
  return parts.join(',');
}

/** `restic forget` flags; empty for a policy that keeps everything. */
export function forgetFlags(policy: RetentionPolicy): string[] {
  if (policy.keepAll) return [];
  const flags = COUNTS.filter((k) => policy.counts[k] !== undefined).flatMap((k) => [`--keep-${k}`, String(policy.counts[k])]);
  if (policy.within !== undefined) flags.push('--keep-within', policy.within);
  return flags;
}

export type PolicySource = 'pvc' | 'namespace' | 'default';

export type EffectiveRetention =
  | { ok: true; source: PolicySource; policy: RetentionPolicy }
  | { ok: false; source: PolicySource; text: string; message: string };

/** PVC annotation > Namespace annotation > operator default; an empty annotation is not set. */
export function effectiveRetention(pvc: PersistentVolumeClaim | undefined, namespace: Namespace | undefined, defaultPolicy: string): EffectiveRetention {
  const fromPvc = pvc?.metadata.annotations?.[RETENTION_ANNOTATION]?.trim();
  const fromNamespace = namespace?.metadata.annotations?.[RETENTION_ANNOTATION]?.trim();
  const [source, text]: [PolicySource, string] =
    fromPvc !== undefined && fromPvc !== '' ? ['pvc', fromPvc] : fromNamespace !== undefined && fromNamespace !== '' ? ['namespace', fromNamespace] : ['default', defaultPolicy];
  const parsed = parsePolicy(text);
  return parsed.ok ? { ok: true, source, policy: parsed.policy } : { ok: false, source, text, message: parsed.message };
}
