// Schedule intervals for the metrics, remembered across scrapes. An interval is the time between
// the next two slots; it holds until the next slot passes (DST and irregular expressions such as
// `0 2 1,15 * *` change it then), so an entry is recomputed only after its next slot. Entries of
// PVCs not seen in a scrape are dropped by `sweep`, so the memory follows the PVCs in scope.
import { parseSchedule } from '../schedule/cron.ts';

export interface ScheduleInterval {
  /** Seconds between the next two slots; undefined when there are not two more. */
  intervalSeconds: number | undefined;
  invalid: boolean;
}

interface Entry extends ScheduleInterval {
  /** Epoch ms until which the interval holds (the next slot); Infinity for invalid expressions. */
  validUntil: number;
  seen: number;
}

export interface ScheduleIntervals {
  at(expression: string, seed: string, timeZone: string, now: Date): ScheduleInterval;
  /** Forgets entries not asked for since the previous sweep; returns how many are kept. */
  sweep(): number;
}

export function scheduleIntervals(): ScheduleIntervals {
  const entries = new Map<string, Entry>();
  let round = 0;
  return {
    at(expression, seed, timeZone, now) {
      const key = `${timeZone}\u0000${seed}\u0000${expression}`;
      const known = entries.get(key);
      if (known !== undefined && now.getTime() < known.validUntil) {
        known.seen = round;
        return known;
      }
      const entry = compute(expression, seed, timeZone, now, round);
      entries.set(key, entry);
      return entry;
    },
    sweep() {
      for (const [key, entry] of entries) if (entry.seen !== round) entries.delete(key);
      round += 1;
      return entries.size;
    },
  };
}

function compute(expression: string, seed: string, timeZone: string, now: Date, seen: number): Entry {
  const parsed = parseSchedule(expression, seed, timeZone);
  if (!parsed.ok) return { intervalSeconds: undefined, invalid: true, validUntil: Number.POSITIVE_INFINITY, seen };
  const next = parsed.schedule.next(now);
  const after = next === undefined ? undefined : parsed.schedule.next(next);
  if (next === undefined || after === undefined) return { intervalSeconds: undefined, invalid: false, validUntil: next?.getTime() ?? Number.POSITIVE_INFINITY, seen };
  return { intervalSeconds: (after.getTime() - next.getTime()) / 1000, invalid: false, validUntil: next.getTime(), seen };
}
