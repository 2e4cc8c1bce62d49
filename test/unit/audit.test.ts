// The e2e audit's concurrency check (test/e2e/audit.ts): it must find overlaps, or every e2e
// scenario's "never over the limit" would pass for nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concurrencyViolations } from '../e2e/audit.ts';

type Recorded = Parameters<typeof concurrencyViolations>[0][number];
const run = (name: string, pvc: string, from: number, to: number): Recorded => ({ namespace: 'ns', name, pvc, startedAt: `2026-12-07T10:00:${String(from).padStart(2, '0')}Z`, finishedAt: `2026-12-07T10:00:${String(to).padStart(2, '0')}Z` });

describe('e2e audit: backups at once', () => {
  const cases: { name: string; runs: Recorded[]; limit: number; found: number }[] = [
    { name: 'one after another, touching ends, is fine at a limit of one', runs: [run('a', 'p1', 0, 5), run('b', 'p2', 5, 9)], limit: 1, found: 0 },
    { name: 'two at once over a limit of one', runs: [run('a', 'p1', 0, 5), run('b', 'p2', 3, 9)], limit: 1, found: 1 },
    { name: 'two at once within a limit of two', runs: [run('a', 'p1', 0, 5), run('b', 'p2', 3, 9)], limit: 2, found: 0 },
    { name: 'two of one PVC at once, whatever the limit', runs: [run('a', 'p1', 0, 5), run('b', 'p1', 3, 9)], limit: 0, found: 1 },
    { name: 'a run that never started is not counted', runs: [run('a', 'p1', 0, 5), { ...run('b', 'p2', 3, 9), startedAt: undefined }], limit: 1, found: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(concurrencyViolations(c.runs, c.limit).length, c.found));
  }
});
