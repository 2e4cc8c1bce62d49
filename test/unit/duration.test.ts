import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatGoDuration, parseGoDuration } from '../../src/duration.ts';

describe('Go durations', () => {
  const parses: [string, number | undefined][] = [
    ['72h', 72 * 3600_000], ['72h0m0s', 72 * 3600_000], ['1h30m', 5400_000], ['90s', 90_000], ['1.5h', 5400_000], ['500ms', 500], ['0', 0],
    ['', undefined], ['3 days', undefined], ['10', undefined], ['h', undefined], ['1h-', undefined], ['-1h', undefined],
  ];
  for (const [text, ms] of parses) it(`parses ${JSON.stringify(text)}`, () => assert.equal(parseGoDuration(text), ms));

  const formats: [number, string][] = [[0, '0s'], [45, '45s'], [65, '1m5s'], [3600, '1h0m0s'], [7384, '2h3m4s'], [59.6, '1m0s']];
  for (const [seconds, text] of formats) it(`formats ${seconds}s as ${text}`, () => assert.equal(formatGoDuration(seconds), text));
});
