// Go duration strings (`time.ParseDuration` / `Duration.String`), the wire format of backsnap's
// `ttl` and `duration` fields.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/gy;

/** Milliseconds of a Go duration string, or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  return consumed === text.length && Number.isFinite(total) ? total : undefined;
}

/** `Duration.String()` of a whole number of seconds: `0s`, `45s`, `1m5s`, `2h0m3s`. */
export function formatGoDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** RFC 3339 at whole seconds, as metav1.Time serializes: `2026-11-29T06:20:50Z`. */
export function formatTime(date: Date): string {
  // One hook formats the same instant (its `now`) several times; remembering the last one
  // halves the hook's time. toISOString is `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0–9999.
  const ms = date.getTime();
  if (ms !== lastFormatted.ms) lastFormatted = { ms, text: `${date.toISOString().slice(0, 19)}Z` };
  return lastFormatted.text;
}
let lastFormatted = { ms: Number.NaN, text: '' };

export function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
