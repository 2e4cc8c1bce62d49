import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduleIntervals } from '../../src/metrics/intervals.ts';

describe('schedule intervals remembered across scrapes', () => {
  const cases: { name: string; expression: string; at: string; interval: number | undefined; invalid: boolean }[] = [
    { name: 'daily', expression: '0 2 * * *', at: '2026-11-29T12:00:00Z', interval: 86_400, invalid: false },
    { name: 'hourly macro', expression: '@hourly', at: '2026-11-29T12:30:00Z', interval: 3_600, invalid: false },
    { name: 'irregular: 15th to 1st', expression: '0 2 1,15 * *', at: '2026-11-02T00:00:00Z', interval: 16 * 86_400, invalid: false },
    { name: 'invalid', expression: '61 * * * *', at: '2026-11-29T12:00:00Z', interval: undefined, invalid: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = scheduleIntervals().at(c.expression, 'uid', 'UTC', new Date(c.at));
      assert.deepEqual({ interval: got.intervalSeconds, invalid: got.invalid }, { interval: c.interval, invalid: c.invalid });
    });
  }

  it('answers from memory until the next slot passes, then computes the interval after it', () => {
    const intervals = scheduleIntervals();
    const first = intervals.at('0 2 1,15 * *', 'uid', 'UTC', new Date('2026-11-02T00:00:00Z'));
    assert.equal(intervals.at('0 2 1,15 * *', 'uid', 'UTC', new Date('2026-11-15T01:59:59Z')), first, 'the same entry before the slot');
    const after = intervals.at('0 2 1,15 * *', 'uid', 'UTC', new Date('2026-11-15T02:00:00Z'));
    assert.notEqual(after, first);
    assert.equal(after.intervalSeconds, 14 * 86_400, '1 December to 15 December');
  });

  it('keys by expression, seed and time zone, and forgets what a scrape did not ask for', () => {
    const intervals = scheduleIntervals();
    const now = new Date('2026-11-29T12:00:00Z');
    intervals.at('H 2 * * *', 'a', 'UTC', now);
    intervals.at('H 2 * * *', 'b', 'UTC', now);
    intervals.at('H 2 * * *', 'a', 'Europe/Berlin', now);
    assert.equal(intervals.sweep(), 3);
    intervals.at('H 2 * * *', 'a', 'UTC', now);
    assert.equal(intervals.sweep(), 1, 'only the entry asked for since the last sweep stays');
    assert.equal(intervals.sweep(), 0);
  });
});
