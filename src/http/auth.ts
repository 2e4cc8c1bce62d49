import { timingSafeEqual } from 'node:crypto';

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`, 'utf8');
  const given = Buffer.from(header ?? '', 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether the header carries any of the accepted tokens (two during a rotation). */
export function bearerMatchesAny(header: string | undefined, tokens: readonly string[]): boolean {
  // Every token is compared, so the time taken does not tell which one matched.
  return tokens.map((token) => bearerMatches(header, token)).some(Boolean);
}
