// The concurrency gate: the backup queue admits waiting backups with slot tickets (at most the
// cluster-wide limit, never two of one PVC), and a backup starts only with its ticket and no other
// backup of its PVC running or ahead of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admitBackups, slotTicket } from '../../src/backup/admission.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { ConfigMap, KubeObject } from '../../src/kube/types.ts';
import type { DecoratorSyncResponse } from '../../src/metacontroller/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import { BACKUP_CHILD_GROUPS, backup, groups, minutesAgo, namespace, pvc, syncRequest, testApp, testConfig } from '../support/fixtures.ts';
import { post, type SyncAnswer } from '../support/hooks.ts';

type Answer = SyncAnswer<PVCBackupStatus>;
const RUNNING: PVCBackupStatus = { phase: 'Running', startedAt: minutesAgo(3) };
const DONE: PVCBackupStatus = { phase: 'Succeeded', startedAt: minutesAgo(9), finishedAt: minutesAgo(8), result: 'Succeeded' };

function created(b: PVCBackup, minutes: number): PVCBackup {
  return { ...b, metadata: { ...b.metadata, creationTimestamp: minutesAgo(minutes) } };
}

/** A waiting backup of PVC `pvc` created `minutes` ago. */
const waiting = (name: string, pvcName: string, minutes: number, ns = 'apps') => created(backup(name, { pvc: pvcName }, {}, ns), minutes);
const running = (name: string, pvcName: string, ns = 'apps') => created(backup(name, { pvc: pvcName }, { status: RUNNING }, ns), 10);
const names = (tickets: readonly ConfigMap[]) => tickets.map((t) => t.data?.['pvcbackup']).sort();

describe('backup queue: admission', () => {
  const cases: { name: string; backups: PVCBackup[]; held?: PVCBackup[]; env?: Record<string, string>; tickets: string[]; admitted: number }[] = [
    { name: 'admits the oldest waiting backups up to the limit', backups: [waiting('c', 'pc', 1), waiting('a', 'pa', 3), waiting('b', 'pb', 2)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, tickets: ['a', 'b'], admitted: 2 },
    { name: 'running backups take slots, with or without a ticket seen', backups: [running('r', 'pr'), waiting('a', 'pa', 3), waiting('b', 'pb', 2)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, tickets: ['a'], admitted: 1 },
    { name: 'a held ticket of an unfinished backup is kept and counts', backups: [waiting('a', 'pa', 3), waiting('b', 'pb', 2)], held: [waiting('b', 'pb', 2)], tickets: ['b'], admitted: 0 },
    { name: 'the ticket of a finished backup is dropped and its slot given on', backups: [created(backup('done', { pvc: 'pd' }, { status: DONE }), 9), waiting('a', 'pa', 3)], held: [backup('done', { pvc: 'pd' })], tickets: ['a'], admitted: 1 },
    { name: 'the ticket of a backup no longer among the unfinished ones is dropped', backups: [waiting('a', 'pa', 3)], held: [backup('gone', { pvc: 'pg' })], tickets: ['a'], admitted: 1 },
    { name: 'one backup of a PVC at a time; a backup of another PVC goes past the second', backups: [waiting('a1', 'pa', 3), waiting('a2', 'pa', 2), waiting('b', 'pb', 1)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, tickets: ['a1', 'b'], admitted: 2 },
    { name: 'a PVC with a running backup admits none of its waiting ones', backups: [running('r', 'pa'), waiting('a', 'pa', 3)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '5' }, tickets: [], admitted: 0 },
    { name: 'a same-named PVC in another namespace is another volume', backups: [running('r', 'data', 'team-b'), waiting('a', 'data', 3)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '5' }, tickets: ['a'], admitted: 1 },
    { name: 'without a limit every PVC gets one', backups: [waiting('a', 'pa', 3), waiting('b', 'pb', 2), waiting('c', 'pc', 1)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '0' }, tickets: ['a', 'b', 'c'], admitted: 3 },
    { name: 'an excluded namespace, a backup being deleted and one without a PVC wait', backups: [waiting('x', 'px', 3, 'skip-me'), { ...waiting('d', 'pd', 3), metadata: { ...waiting('d', 'pd', 3).metadata, deletionTimestamp: minutesAgo(0) } }, created(backup('n', {}), 3)], env: { BACKSNAP_EXCLUDE_NAMESPACES: 'skip-me', BACKSNAP_MAX_RUNNING_BACKUPS: '5' }, tickets: [], admitted: 0 },
    { name: 'ties in age are broken by namespace and name', backups: [waiting('b', 'pb', 2), waiting('a', 'pa', 2)], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '1' }, tickets: ['a'], admitted: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const admission = admitBackups(c.backups, (c.held ?? []).map(slotTicket), testConfig(c.env));
      assert.deepEqual(names(admission.tickets), c.tickets);
      assert.equal(admission.admitted.length, c.admitted);
    });
  }

  it('a ticket made but not observed yet is made again for the same backup (a repeated sync changes nothing)', () => {
    const backups = [waiting('a', 'pa', 3), waiting('b', 'pb', 2), waiting('c', 'pc', 1)];
    const config = testConfig({ BACKSNAP_MAX_RUNNING_BACKUPS: '2' });
    const first = admitBackups(backups, [], config);
    assert.deepEqual(admitBackups(backups, [], config).tickets, first.tickets);
    const observed = admitBackups(backups, first.tickets, config);
    assert.deepEqual(observed.tickets, first.tickets);
    assert.equal(observed.admitted.length, 0);
  });

  it('never holds more slots than the limit while backups start and finish', () => {
    const config = testConfig({ BACKSNAP_MAX_RUNNING_BACKUPS: '3' });
    let backups = Array.from({ length: 20 }, (_, i) => waiting(`b${String(i).padStart(2, '0')}`, `p${i % 7}`, 30 - i));
    let tickets: ConfigMap[] = [];
    const started = new Set<string>();
    for (let round = 0; round < 40 && started.size < 20; round += 1) {
      tickets = admitBackups(backups, tickets, config).tickets;
      const holding = new Set(tickets.map((t) => t.data?.['pvcbackup']));
      const active = backups.filter((b) => holding.has(b.metadata.name) || (b.status?.phase === 'Running' && b.status.result === undefined));
      assert.ok(active.length <= 3, `round ${round}: ${active.length} slots taken`);
      const volumes = active.map((b) => (b.spec as { pvc: string }).pvc);
      assert.equal(new Set(volumes).size, volumes.length, `round ${round}: two backups of one PVC`);
      // Every ticketed backup starts; every running one finishes a round later.
      backups = backups.map((b) => {
        if (b.status?.phase === 'Running' && b.status.result === undefined) return { ...b, status: DONE };
        if (holding.has(b.metadata.name) && b.status === undefined) return (started.add(b.metadata.name), { ...b, status: RUNNING });
        return b;
      });
    }
    assert.equal(started.size, 20, 'every backup got its turn');
  });
});

describe('backup queue: hook', () => {
  const controller = { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'DecoratorController', metadata: { name: 'backsnap-backup-queue' } };
  const queueSync = (related: KubeObject[], attachments: KubeObject[], env: Record<string, string> = {}) =>
    post<DecoratorSyncResponse>(testApp(testConfig(env)), '/hooks/backup-queue/sync', { controller, object: namespace('backsnap'), attachments: { 'ConfigMap.v1': {}, ...groups(attachments) }, related: groups(related), finalizing: false });

  it('answers with the tickets only: next to each backup, named by its UID, changing nothing on the Namespace', async () => {
    const answer = await queueSync([waiting('a', 'pa', 3, 'team-a'), running('r', 'pr')], [], { BACKSNAP_MAX_RUNNING_BACKUPS: '2' });
    assert.deepEqual(Object.keys(answer), ['attachments']);
    assert.deepEqual(answer.attachments.map((t) => `${t.metadata.namespace}/${t.metadata.name}`), ['team-a/backup-slot-uid-team-a-a']);
  });
});

describe('backup gate in the PVCBackup sync', () => {
  const decide = (me: PVCBackup, others: PVCBackup[], ticket: boolean, env: Record<string, string> = {}) =>
    post<Answer>(testApp(testConfig(env)), '/hooks/pvcbackup/sync', syncRequest(me, [], [pvc('data'), ...others, ...(ticket ? [slotTicket(me)] : [])], BACKUP_CHILD_GROUPS));
  const reason = (a: Answer) => a.status.conditions?.find((c) => c.type === 'Ready')?.reason;
  const me = waiting('me', 'data', 1);
  const cases: { name: string; others: PVCBackup[]; ticket: boolean; starts: boolean; reason?: string }[] = [
    { name: 'starts with its ticket', others: [], ticket: true, starts: true },
    { name: 'waits without one, however idle the cluster looks', others: [], ticket: false, starts: false, reason: 'WaitingForSlot' },
    { name: 'with a ticket, still waits for a running backup of the same PVC', others: [running('earlier', 'data')], ticket: true, starts: false, reason: 'WaitingForSameVolume' },
    { name: 'with a ticket, an older waiting backup of the same PVC goes first', others: [waiting('older', 'data', 5)], ticket: true, starts: false, reason: 'WaitingForSameVolume' },
    { name: 'a younger backup of the same PVC does not block', others: [waiting('younger', 'data', 0)], ticket: true, starts: true },
    { name: 'a finished backup of the same PVC does not block', others: [created(backup('old', { pvc: 'data' }, { status: DONE }), 9)], ticket: true, starts: true },
    { name: 'a same-named PVC in another namespace is another volume', others: [running('earlier', 'data', 'team-b')], ticket: true, starts: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const answer = await decide(me, c.others, c.ticket);
      assert.equal(answer.status.phase, c.starts ? 'Running' : 'Pending');
      assert.equal(answer.children.length, c.starts ? 2 : 0);
      if (c.reason !== undefined) assert.equal(reason(answer), c.reason);
      if (!c.starts) assert.ok((answer.resyncAfterSeconds ?? 0) > 0, 'a waiting backup is looked at again');
    });
  }

  it('says which controller hands out slots while it waits', async () => {
    const answer = await decide(me, [], false, { BACKSNAP_MAX_RUNNING_BACKUPS: '3' });
    assert.match(answer.status.message ?? '', /backsnap-backup-queue; at most 3 backups run at once/);
  });
});
