// The scheduler's pure decision with an injected clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { PersistentVolumeClaim } from '../../src/kube/types.ts';
import { parseSchedule } from '../../src/schedule/cron.ts';
import { chooseSchedule } from '../../src/schedule/resolve.ts';
import { decideSlot, type SlotInput } from '../../src/schedule/slots.ts';
import { backup, namespace, pvc, testConfig } from '../support/fixtures.ts';

const at = (iso: string) => new Date(iso);

function scheduledPvc(annotations: Record<string, string> = {}, created = '2026-01-01T00:00:00Z', uid = 'uid-pvc-1'): PersistentVolumeClaim {
  const base = pvc('data', 'apps', { annotations });
  return { ...base, metadata: { ...base.metadata, uid, creationTimestamp: created } };
}

function automatic(slot: string, result?: 'Succeeded' | 'Failed'): PVCBackup {
  return backup(`data-${Date.parse(slot) / 1000}`, { pvc: 'data' }, {
    metadata: { name: `data-${Date.parse(slot) / 1000}`, namespace: 'apps', annotations: { 'backsnap.skyb.it/scheduled-for': slot } },
    ...(result === undefined ? { status: { startedAt: slot } } : { status: { result } }),
  });
}

function input(p: PersistentVolumeClaim, backups: PVCBackup[] = [], nsAnnotations: Record<string, string> = {}): SlotInput {
  return { pvc: p, namespace: namespace('apps', nsAnnotations), restore: undefined, backups };
}

describe('schedule choice (backsnap precedence)', () => {
  const config = testConfig();
  const cases: { name: string; pvc: Record<string, string>; ns: Record<string, string>; env?: Record<string, string>; expect: string | undefined; source?: string }[] = [
    { name: 'default when nothing is annotated', pvc: {}, ns: {}, expect: '@daily', source: 'default' },
    { name: 'namespace over default', pvc: {}, ns: { 'backsnap.skyb.it/schedule': '0 3 * * *' }, expect: '0 3 * * *', source: 'namespace' },
    { name: 'PVC over namespace', pvc: { 'backsnap.skyb.it/schedule': '0 4 * * *' }, ns: { 'backsnap.skyb.it/schedule': '0 3 * * *' }, expect: '0 4 * * *', source: 'pvc' },
    { name: 'empty PVC annotation disables even with a namespace schedule', pvc: { 'backsnap.skyb.it/schedule': '' }, ns: { 'backsnap.skyb.it/schedule': '0 3 * * *' }, expect: undefined, source: 'pvc' },
    { name: 'empty namespace annotation disables the default', pvc: {}, ns: { 'backsnap.skyb.it/schedule': '' }, expect: undefined, source: 'namespace' },
    { name: 'PVC annotation overrides an empty namespace', pvc: { 'backsnap.skyb.it/schedule': '@hourly' }, ns: { 'backsnap.skyb.it/schedule': '' }, expect: '@hourly', source: 'pvc' },
    { name: 'empty default disables unannotated PVCs', pvc: {}, ns: {}, env: { BACKSNAP_SCHEDULE: '' }, expect: undefined, source: 'default' },
    { name: 'manual mode disables everything', pvc: { 'backsnap.skyb.it/schedule': '@hourly' }, ns: {}, env: { BACKSNAP_MANUAL: 'true' }, expect: undefined },
    { name: 'excluded namespace', pvc: { 'backsnap.skyb.it/schedule': '@hourly' }, ns: {}, env: { BACKSNAP_EXCLUDE_NAMESPACES: 'apps' }, expect: undefined },
    { name: 'namespace outside the allow-list', pvc: {}, ns: {}, env: { BACKSNAP_NAMESPACES: 'prod,staging' }, expect: undefined },
    { name: 'namespace in the allow-list', pvc: {}, ns: {}, env: { BACKSNAP_NAMESPACES: 'prod, apps' }, expect: '@daily', source: 'default' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const choice = chooseSchedule(scheduledPvc(c.pvc), namespace('apps', c.ns), c.env === undefined ? config : testConfig(c.env));
      assert.equal(choice.enabled ? choice.expression : undefined, c.expect);
      if (c.source !== undefined) assert.equal(choice.source, c.source);
    });
  }
});

describe('cron parsing', () => {
  it('spreads H fields stably per PVC and differently across PVCs', () => {
    const slot = (uid: string) => {
      const parsed = parseSchedule('H H * * *', uid, 'UTC');
      assert.ok(parsed.ok);
      return parsed.schedule.next(at('2026-11-29T00:00:00Z'))?.toISOString();
    };
    assert.equal(slot('uid-a'), slot('uid-a'));
    const distinct = new Set(Array.from({ length: 20 }, (_, i) => slot(`uid-${i}`)));
    assert.ok(distinct.size >= 15, `20 PVCs got only ${distinct.size} distinct slots`);
  });

  it('reads schedules in the configured or the prefixed time zone', () => {
    const amsterdam = parseSchedule('0 3 * * *', 'u', 'Europe/Amsterdam');
    const prefixed = parseSchedule('TZ=America/New_York 0 3 * * *', 'u', 'UTC');
    assert.ok(amsterdam.ok && prefixed.ok);
    assert.equal(amsterdam.schedule.next(at('2026-11-29T00:00:00Z'))?.toISOString(), '2026-11-29T02:00:00.000Z');
    assert.equal(prefixed.schedule.next(at('2026-11-29T00:00:00Z'))?.toISOString(), '2026-11-29T08:00:00.000Z');
  });

  it('follows daylight saving time', () => {
    const parsed = parseSchedule('30 1 * * *', 'u', 'Europe/Amsterdam');
    assert.ok(parsed.ok);
    // CET (UTC+1) before 29 March 2026, CEST (UTC+2) after.
    assert.equal(parsed.schedule.next(at('2026-03-28T12:00:00Z'))?.toISOString(), '2026-03-29T00:30:00.000Z');
    assert.equal(parsed.schedule.next(at('2026-03-29T12:00:00Z'))?.toISOString(), '2026-03-29T23:30:00.000Z');
  });

  it('handles month ends', () => {
    const parsed = parseSchedule('0 0 31 * *', 'u', 'UTC');
    assert.ok(parsed.ok);
    assert.equal(parsed.schedule.next(at('2026-11-01T00:00:00Z'))?.toISOString(), '2026-12-31T00:00:00.000Z', 'November has no 31st');
    assert.equal(parsed.schedule.previous(at('2026-11-29T00:00:00Z'))?.toISOString(), '2026-10-31T00:00:00.000Z');
  });

  it("accepts backsnap's macros and a trailing year field of *", () => {
    for (const text of ['@daily', '@hourly', '@weekly', '@monthly', '@yearly', '@midnight', '0 0 * * * *']) assert.ok(parseSchedule(text, 'u', 'UTC').ok, text);
  });

  const invalid = ['61 * * * *', 'bogus', '* * *', '0 0 31 2 *', 'TZ=Mars/Base 0 0 * * *', '@reboot'];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)} with a message`, () => {
      const parsed = parseSchedule(text, 'u', 'UTC');
      assert.ok(!parsed.ok);
      assert.ok(parsed.message.length > 10);
    });
  }
});

describe('slot decision', () => {
  const config = testConfig();
  const daily = { 'backsnap.skyb.it/schedule': '0 2 * * *' };

  it('creates one backup for the latest slot', () => {
    const decision = decideSlot(input(scheduledPvc(daily), [automatic('2026-11-28T02:00:00Z', 'Succeeded')]), config, at('2026-11-29T02:00:30Z'));
    assert.equal(decision.action, 'create');
    assert.equal(decision.action === 'create' && decision.slot.toISOString(), '2026-11-29T02:00:00.000Z');
    assert.equal(decision.action === 'create' && decision.next?.toISOString(), '2026-11-30T02:00:00.000Z');
  });

  it('waits when the latest slot is covered', () => {
    const decision = decideSlot(input(scheduledPvc(daily), [automatic('2026-11-29T02:00:00Z', 'Succeeded')]), config, at('2026-11-29T12:00:00Z'));
    assert.equal(decision.action, 'wait');
  });

  it('catches up missed slots once, not once per missed slot', () => {
    const decision = decideSlot(input(scheduledPvc(daily), [automatic('2026-11-25T02:00:00Z', 'Succeeded')]), config, at('2026-11-29T12:00:00Z'));
    assert.equal(decision.action === 'create' && decision.slot.toISOString(), '2026-11-29T02:00:00.000Z');
    const after = decideSlot(input(scheduledPvc(daily), [automatic('2026-11-25T02:00:00Z', 'Succeeded'), automatic('2026-11-29T02:00:00Z', 'Succeeded')]), config, at('2026-11-29T12:00:00Z'));
    assert.equal(after.action, 'wait');
  });

  it('remembers the last scheduled slot on the PVC when its backups are gone', () => {
    const pvcWithMemory = scheduledPvc({ ...daily, 'backsnap.skyb.it/last-scheduled': '2026-11-29T02:00:00Z' });
    assert.equal(decideSlot(input(pvcWithMemory), config, at('2026-11-29T12:00:00Z')).action, 'wait');
  });

  it('creates no new slot while a backup of the PVC still runs', () => {
    const decision = decideSlot(input(scheduledPvc(daily), [automatic('2026-11-28T02:00:00Z')]), config, at('2026-11-29T02:00:30Z'));
    assert.equal(decision.action, 'wait');
    assert.equal(decision.action === 'wait' && decision.reason, 'BackupRunning');
  });

  it('gives a new PVC its first backup at its next slot', () => {
    const fresh = scheduledPvc(daily, '2026-11-29T10:00:00Z');
    assert.equal(decideSlot(input(fresh), config, at('2026-11-29T12:00:00Z')).action, 'wait');
    assert.equal(decideSlot(input(fresh), config, at('2026-11-30T02:00:01Z')).action, 'create');
  });

  it('reports an invalid schedule instead of retrying it', () => {
    const decision = decideSlot(input(scheduledPvc({ 'backsnap.skyb.it/schedule': '0 25 * * *' })), config, at('2026-11-29T12:00:00Z'));
    assert.equal(decision.action, 'invalid');
    assert.match(decision.action === 'invalid' ? decision.message : '', /pvc schedule/);
  });

  const skips: { name: string; pvc: () => PersistentVolumeClaim; reason: string }[] = [
    { name: 'being deleted', pvc: () => ({ ...scheduledPvc(daily), metadata: { ...scheduledPvc(daily).metadata, deletionTimestamp: '2026-11-29T00:00:00Z' } }), reason: 'PVCDeleting' },
    { name: 'not bound', pvc: () => ({ ...scheduledPvc(daily), status: { phase: 'Pending' } }), reason: 'PVCNotBound' },
    { name: 'a temporary backup volume', pvc: () => ({ ...scheduledPvc(daily), metadata: { ...scheduledPvc(daily).metadata, labels: { 'backsnap.skyb.it/temporary': 'true' } } }), reason: 'TemporaryVolume' },
  ];
  for (const c of skips) {
    it(`skips a PVC ${c.name}`, () => {
      const decision = decideSlot(input(c.pvc()), config, at('2026-11-29T12:00:00Z'));
      assert.equal(decision.action === 'skip' && decision.reason, c.reason);
    });
  }

  it('skips a PVC that a PVCRestore is still restoring, and not after it finished', () => {
    const restored = { ...scheduledPvc(daily), metadata: { ...scheduledPvc(daily).metadata, ownerReferences: [{ apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCRestore', name: 'r', uid: 'u', controller: true }] } };
    const running = { apiVersion: 'backsnap.skyb.it/v1alpha1' as const, kind: 'PVCRestore' as const, metadata: { name: 'r', namespace: 'apps' }, status: { startedAt: '2026-11-29T11:00:00Z' } };
    const during = decideSlot({ ...input(restored), restore: running }, config, at('2026-11-30T12:00:00Z'));
    assert.equal(during.action === 'skip' && during.reason, 'BeingRestored');
    const after = decideSlot({ ...input(restored), restore: { ...running, status: { result: 'Succeeded' } } }, config, at('2026-11-30T12:00:00Z'));
    assert.equal(after.action, 'create');
  });
});
