import { createHash } from 'node:crypto';

/** Longest name that stays usable as a label value (Job names become the `job-name` label). */
export const MAX_LABEL_NAME = 63;

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * A deterministic name of at most `max` characters: `prefix-name` when it fits, otherwise a
 * truncated prefix of it plus a hash of the whole, so that distinct inputs stay distinct.
 */
export function boundedName(parts: readonly string[], max = MAX_LABEL_NAME): string {
  const full = parts.filter((p) => p !== '').join('-');
  if (full.length <= max) return full;
  const hash = shortHash(full);
  const head = full.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}
