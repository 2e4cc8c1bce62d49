// Retention policies (parsing, flags, precedence) and the prune/check cadence, with an injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecord, isDue, newestRecord, parseRecord } from '../../src/retention/maintenance.ts';
import { effectiveRetention, forgetFlags, formatPolicy, parsePolicy } from '../../src/retention/policy.ts';
import { NOW, namespace, pvc } from '../support/fixtures.ts';

describe('retention policy', () => {
  const valid: [string, string, string[]][] = [
    ['last=1,hourly=12,daily=7,weekly=2,monthly=2', 'last=1,hourly=12,daily=7,weekly=2,monthly=2', ['--keep-last', '1', '--keep-hourly', '12', '--keep-daily', '7', '--keep-weekly', '2', '--keep-monthly', '2']],
    [' daily = 7 , last=2 ', 'last=2,daily=7', ['--keep-last', '2', '--keep-daily', '7']],
    ['within=30d', 'within=30d', ['--keep-within', '30d']],
    ['yearly=3,within=1y6m', 'yearly=3,within=1y6m', ['--keep-yearly', '3', '--keep-within', '1y6m']],
    ['all', 'all', []],
  ];
  for (const [text, canonical, flags] of valid) {
    it(`reads ${JSON.stringify(text)}`, () => {
      const parsed = parsePolicy(text);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
      assert.equal(formatPolicy(parsed.policy), canonical);
      assert.deepEqual(forgetFlags(parsed.policy), flags);
    });
  }
  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['last=0', /at least 1/],
    ['daily=-1', /not key=value/],
    ['daily=seven', /whole number/],
    ['forever=1', /unknown rule forever/],
    ['last=1,last=2', /twice/],
    ['within=30x', /not a duration/],
    ['within=d', /not a duration/],
    ['last', /not key=value/],
    ['none', /not key=value/],
  ];
  for (const [text, message] of invalid) {
    it(`refuses ${JSON.stringify(text)} with a reason, never as "keep nothing"`, () => {
      const parsed = parsePolicy(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.message, message);
    });
  }

  it('takes the PVC annotation over the Namespace one over the default, and skips empty ones', () => {
    const annotated = (value: string) => ({ 'backsnap.skyb.it/retention': value });
    const cases: [Record<string, string>, Record<string, string>, string, string][] = [
      [annotated('last=3'), annotated('last=5'), 'pvc', 'last=3'],
      [{}, annotated('last=5'), 'namespace', 'last=5'],
      [annotated(''), annotated('last=5'), 'namespace', 'last=5'],
      [{}, {}, 'default', 'last=1,daily=7'],
    ];
    for (const [onPvc, onNamespace, source, policy] of cases) {
      const effective = effectiveRetention(pvc('data', 'apps', { annotations: onPvc }), namespace('apps', onNamespace), 'last=1,daily=7');
      assert.ok(effective.ok);
      assert.deepEqual([effective.source, formatPolicy(effective.policy)], [source, policy]);
    }
    const broken = effectiveRetention(pvc('data', 'apps', { annotations: annotated('last=zero') }), namespace('apps', annotated('last=5')), 'last=1');
    assert.deepEqual(broken.ok ? undefined : [broken.source, broken.text], ['pvc', 'last=zero'], 'an invalid PVC policy does not fall back to the Namespace one');
  });
});

describe('prune and check cadence', () => {
  const DAY = 86_400_000;
  const at = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const cases: [string, ReturnType<typeof parseRecord>, number, boolean][] = [
    ['never run', undefined, 7 * DAY, true],
    ['run 3 days ago, weekly', { at: at(3), result: 'Succeeded' }, 7 * DAY, false],
    ['run 7 days ago, weekly', { at: at(7), result: 'Succeeded' }, 7 * DAY, true],
    ['failed an hour ago', { at: at(1 / 24), result: 'Failed', message: 'lock' }, 7 * DAY, true],
    ['switched off', undefined, 0, false],
  ];
  for (const [name, record, interval, due] of cases) {
    it(`${due ? 'is' : 'is not'} due when ${name}`, () => assert.equal(isDue(record, interval, NOW), due));
  }

  it('remembers runs in an annotation and takes the newest record', () => {
    const record = { at: '2026-11-29T10:00:00Z', result: 'Failed' as const, message: 'pack 1234: hash mismatch' };
    assert.deepEqual(parseRecord(formatRecord(record)), record);
    assert.deepEqual(parseRecord('2026-11-29T10:00:00Z Succeeded'), { at: '2026-11-29T10:00:00Z', result: 'Succeeded' });
    assert.equal(parseRecord('yesterday Succeeded'), undefined);
    assert.equal(newestRecord([undefined, { at: at(3), result: 'Succeeded' }, { at: at(1), result: 'Failed' }])?.result, 'Failed');
  });
});
