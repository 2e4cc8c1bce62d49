/**
 * Code-point order of two strings, for sorting RFC 3339 times and object keys: localeCompare
 * collates through ICU and was a tenth of a 1,000-PVC metrics scrape.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
