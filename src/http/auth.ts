import { timingSafeEqual } from 'node:crypto';

/**
 * A check of the header against any of the accepted tokens (two during a rotation), with the
 * expected headers encoded once rather than on every call.
 */
export function bearerChecker(tokens: readonly string[]): (header: string | undefined) => boolean {
  const expected = tokens.map((token) => Buffer.from(`Bearer ${token}`, 'utf8'));
  return (header) => {
    const given = Buffer.from(header ?? '', 'utf8');
    // Every token is compared, so the time taken does not tell which one matched.
    let matched = false;
    for (const e of expected) if (given.length === e.length && timingSafeEqual(given, e)) matched = true;
    return matched;
  };
}
