// Cron schedules of PVCs: backsnap's syntax (5 fields, @daily and friends) plus `H` fields that
// are hashed from the PVC's UID (spreading load deterministically: the same PVC always gets the
// same minute) and an optional `TZ=<zone>` (or `CRON_TZ=`) prefix.
import { CronExpressionParser } from 'cron-parser';

export interface Schedule {
  expression: string;
  timeZone: string;
  /** The latest slot at or before `at`, if any. */
  previous(at: Date): Date | undefined;
  /** The first slot strictly after `at`, if any. */
  next(at: Date): Date | undefined;
}

export type ParsedSchedule = { ok: true; schedule: Schedule } | { ok: false; message: string };

const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** backsnap's hashicorp/cronexpr also took a trailing year field; `*` there means every year. */
function fieldsOf(expression: string): { fields: string; error?: string } {
  if (MACROS.has(expression)) return { fields: expression === '@midnight' ? '@daily' : expression };
  const parts = expression.split(/\s+/);
  if (parts.length === 5) return { fields: expression };
  if (parts.length === 6 && parts[5] === '*') return { fields: parts.slice(0, 5).join(' ') };
  return { fields: expression, error: `expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got ${parts.length} fields` };
}

function occurrence(fields: string, timeZone: string, seed: string, at: Date, direction: 'previous' | 'next'): Date | undefined {
  // cron-parser's prev() is exclusive of the current instant: nudge it to include a slot at `at`.
  const currentDate = direction === 'previous' ? new Date(at.getTime() + 1) : at;
  const expression = CronExpressionParser.parse(fields, { currentDate, tz: timeZone, hashSeed: seed });
  try {
    return (direction === 'previous' ? expression.prev() : expression.next()).toDate();
  } catch {
    return undefined;
  }
}

export function parseSchedule(text: string, seed: string, defaultTimeZone: string): ParsedSchedule {
  let rest = text.trim();
  let timeZone = defaultTimeZone;
  const tz = /^(?:CRON_)?TZ=(\S+)\s+(.*)$/.exec(rest);
  if (tz !== null) {
    timeZone = tz[1] ?? defaultTimeZone;
    rest = (tz[2] ?? '').trim();
    if (!validTimeZone(timeZone)) return { ok: false, message: `unknown time zone ${JSON.stringify(timeZone)}` };
  }
  const { fields, error } = fieldsOf(rest);
  if (error !== undefined) return { ok: false, message: error };
  try {
    // Parsing alone does not find impossible dates such as 31 February: ask for one occurrence.
    const probe = CronExpressionParser.parse(fields, { currentDate: new Date(0), tz: timeZone, hashSeed: seed });
    probe.next();
  } catch (e) {
    return { ok: false, message: `invalid cron expression ${JSON.stringify(text)}: ${(e as Error).message}` };
  }
  return {
    ok: true,
    schedule: {
      expression: text.trim(),
      timeZone,
      previous: (at) => occurrence(fields, timeZone, seed, at, 'previous'),
      next: (at) => occurrence(fields, timeZone, seed, at, 'next'),
    },
  };
}
