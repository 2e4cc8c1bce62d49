// The concurrency gate: the backup queue hands out tickets (one volume ticket per PVC, then one of
// the cluster-wide slots, then the admission), and a backup starts only with its admission ticket.
// Exclusion rests on the ticket names, so the simulation below replays Metacontroller's attachment
// semantics under lagging views and counts the backups that ever ran at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionTicket, admissionTicketName, admitBackups, slotTicket, ticketHolder, ticketKind, volumeTicket, volumeTicketName, type TicketKind } from '../../src/backup/admission.ts';
import { claimSlot } from '../../src/backup/queue.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { ConfigMap, KubeObject, PersistentVolumeClaim, VolumeSnapshot } from '../../src/kube/types.ts';
import type { DecoratorSyncResponse } from '../../src/metacontroller/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import { admissionTickets, BACKUP_CHILD_GROUPS, backup, groups, minutesAgo, namespace, NOW, pvc, readySnapshot, syncRequest, testApp, testConfig } from '../support/fixtures.ts';
import { formatTime } from '../../src/duration.ts';
import { AHEAD_OF_START_ANNOTATION, STARTED_AT_ANNOTATION } from '../../src/labels.ts';
import { post, type SyncAnswer } from '../support/hooks.ts';

type Answer = SyncAnswer<PVCBackupStatus>;
const RUNNING: PVCBackupStatus = { phase: 'Running', startedAt: minutesAgo(3) };
const DONE: PVCBackupStatus = { phase: 'Succeeded', startedAt: minutesAgo(9), finishedAt: minutesAgo(8), result: 'Succeeded' };
const QUEUE_NS = 'backsnap';

function created(b: PVCBackup, minutes: number): PVCBackup {
  return { ...b, metadata: { ...b.metadata, creationTimestamp: minutesAgo(minutes) } };
}

/** A waiting backup of PVC `pvcName` created `minutes` ago. */
const waiting = (name: string, pvcName: string, minutes: number, ns = 'apps') => created(backup(name, { pvc: pvcName }, {}, ns), minutes);
const running = (name: string, pvcName: string, ns = 'apps') => created(backup(name, { pvc: pvcName }, { status: RUNNING }, ns), 10);
const finished = (name: string, pvcName: string) => created(backup(name, { pvc: pvcName }, { status: DONE }), 9);
const holders = (tickets: readonly ConfigMap[], kind: TicketKind) =>
  tickets
    .filter((t) => ticketKind(t) === kind)
    .map((t) => (t.data?.['pvcbackup'] ?? '').split('/')[1])
    .sort();

describe('backup queue: admission', () => {
  type Case = { name: string; backups: PVCBackup[]; volumes?: PVCBackup[]; slots?: PVCBackup[]; admissions?: PVCBackup[]; env?: Record<string, string>; want: { volume: string[]; slot: string[]; admitted: string[] } };
  const a = waiting('a', 'pa', 3);
  const b = waiting('b', 'pb', 2);
  const limit = (n: number) => ({ BACKSNAP_MAX_RUNNING_BACKUPS: String(n) });
  const cases: Case[] = [
    { name: 'reserves the volumes of the oldest waiting backups for twice the limit (a place and the next in line), nothing more yet', backups: [waiting('c', 'pc', 1), a, b], env: limit(1), want: { volume: ['a', 'b'], slot: [], admitted: [] } },
    { name: 'gives slots to backups whose volume ticket it has seen', backups: [a, b], volumes: [a, b], env: limit(2), want: { volume: ['a', 'b'], slot: ['a', 'b'], admitted: [] } },
    { name: 'admits backups it has seen hold their volume and a slot', backups: [a, b], volumes: [a, b], slots: [a], env: limit(2), want: { volume: ['a', 'b'], slot: ['a', 'b'], admitted: ['a'] } },
    { name: 'without a limit, the volume ticket is enough for admission', backups: [a], volumes: [a], env: limit(0), want: { volume: ['a'], slot: [], admitted: ['a'] } },
    { name: 'running backups take places, with or without tickets seen', backups: [running('r', 'pr'), a, b], env: limit(1), want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'a running backup without a slot seen keeps a volume holder from getting one', backups: [running('r', 'pr'), a], volumes: [a], env: limit(1), want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'a backup admitted while there was no limit takes a place: no slot for the next', backups: [waiting('x', 'px', 4), a], volumes: [waiting('x', 'px', 4), a], admissions: [waiting('x', 'px', 4)], env: limit(1), want: { volume: ['a', 'x'], slot: [], admitted: ['x'] } },
    { name: 'held tickets of an unfinished backup are kept and count', backups: [a, b, waiting('c', 'pc', 1)], volumes: [b], slots: [b], admissions: [b], env: limit(1), want: { volume: ['a', 'b'], slot: ['b'], admitted: ['b'] } },
    { name: 'the tickets of a finished backup are dropped, its slot name not reused until it is gone', backups: [finished('done', 'pd'), a], volumes: [finished('done', 'pd'), a], slots: [finished('done', 'pd')], admissions: [finished('done', 'pd')], want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'a free slot name goes to the next volume holder', backups: [finished('done', 'pd'), a], volumes: [a], want: { volume: ['a'], slot: ['a'], admitted: [] } },
    { name: "a finished backup's volume is not handed on in the answer that drops its ticket", backups: [finished('done', 'pa'), a], volumes: [finished('done', 'pa')], want: { volume: [], slot: [], admitted: [] } },
    { name: 'the tickets of a backup no longer among the unfinished ones are dropped', backups: [a], volumes: [backup('gone', { pvc: 'pg' })], slots: [backup('gone', { pvc: 'pg' })], want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'one backup of a PVC at a time; a backup of another PVC goes past the second', backups: [waiting('a1', 'pa', 3), waiting('a2', 'pa', 2), waiting('b', 'pb', 1)], env: limit(2), want: { volume: ['a1', 'b'], slot: [], admitted: [] } },
    { name: 'a PVC with a running backup reserves for none of its waiting ones', backups: [running('r', 'pa'), a], env: limit(5), want: { volume: [], slot: [], admitted: [] } },
    { name: 'a same-named PVC in another namespace is another volume', backups: [running('r', 'data', 'team-b'), waiting('a', 'data', 3)], env: limit(5), want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'without a limit every PVC gets its volume and no slots exist', backups: [a, b, waiting('c', 'pc', 1)], env: limit(0), want: { volume: ['a', 'b', 'c'], slot: [], admitted: [] } },
    { name: 'an excluded namespace, a backup being deleted and one without a PVC wait', backups: [waiting('x', 'px', 3, 'skip-me'), { ...waiting('d', 'pd', 3), metadata: { ...waiting('d', 'pd', 3).metadata, deletionTimestamp: minutesAgo(0) } }, created(backup('n', {}), 3)], env: { BACKSNAP_EXCLUDE_NAMESPACES: 'skip-me', ...limit(5) }, want: { volume: [], slot: [], admitted: [] } },
    { name: 'without snapshots ahead, volume tickets only up to the limit', backups: [waiting('c', 'pc', 1), a, b], env: { ...limit(1), BACKSNAP_SNAPSHOT_AHEAD: 'false' }, want: { volume: ['a'], slot: [], admitted: [] } },
    { name: 'ties in age are broken by namespace and name', backups: [waiting('c', 'pc', 2), waiting('b', 'pb', 2), waiting('a', 'pa', 2)], env: limit(1), want: { volume: ['a', 'b'], slot: [], admitted: [] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const held = [...(c.volumes ?? []).map(volumeTicket), ...(c.slots ?? []).map((h, i) => slotTicket(h, i, QUEUE_NS)), ...(c.admissions ?? []).map(admissionTicket)];
      const { tickets } = admitBackups(c.backups, held, testConfig(c.env), QUEUE_NS);
      assert.deepEqual({ volume: holders(tickets, 'volume'), slot: holders(tickets, 'slot'), admitted: holders(tickets, 'admitted') }, c.want);
    });
  }

  it('a repeated sync changes nothing; each observed step leads to the next, then nothing changes', () => {
    const backups = [a, b, waiting('c', 'pc', 1)];
    const config = testConfig(limit(2));
    const first = admitBackups(backups, [], config, QUEUE_NS);
    assert.deepEqual(admitBackups(backups, [], config, QUEUE_NS).tickets, first.tickets);
    assert.deepEqual(first.reserved, ['apps/a', 'apps/b', 'apps/c']);
    const second = admitBackups(backups, first.tickets, config, QUEUE_NS);
    assert.deepEqual(second.slotted, ['apps/a', 'apps/b']);
    const third = admitBackups(backups, second.tickets, config, QUEUE_NS);
    assert.deepEqual(third.admitted, ['apps/a', 'apps/b']);
    const fourth = admitBackups(backups, third.tickets, config, QUEUE_NS);
    assert.deepEqual(fourth.tickets, third.tickets);
    assert.deepEqual([fourth.reserved, fourth.slotted, fourth.admitted], [[], [], []]);
  });
});

/** A seeded generator, so a failing interleaving can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Stored {
  ticket: ConfigMap;
  uid: number;
}
const keyOf = (t: KubeObject) => `${t.metadata.namespace ?? ''}/${t.metadata.name}`;

/**
 * The API server and Metacontroller as the queue meets them: a create of an existing name is
 * swallowed and changes nothing (OnDelete), a delete carries the observed UID as precondition, and
 * every informer of a reader sees a snapshot of the past, never older than the one it saw last.
 */
class Cluster {
  tickets = new Map<string, Stored>();
  backups: PVCBackup[];
  private history: { tickets: Map<string, Stored>; backups: PVCBackup[] }[] = [];
  private seen = new Map<string, number>();
  private nextUid = 1;
  maxRunning = 0;
  sameVolumeOverlap = 0;
  private readonly next: () => number;
  private readonly maxLag: number;
  constructor(backups: PVCBackup[], next: () => number, maxLag: number) {
    this.backups = backups;
    this.next = next;
    this.maxLag = maxLag;
    this.record();
  }
  record(): void {
    this.history.push({ tickets: new Map(this.tickets), backups: this.backups });
    const live = this.backups.filter((b) => b.status?.phase === 'Running' && b.status.result === undefined);
    this.maxRunning = Math.max(this.maxRunning, live.length);
    const volumes = live.map((b) => (b.spec as { pvc: string }).pvc);
    if (new Set(volumes).size < volumes.length) this.sameVolumeOverlap += 1;
  }
  /** What a reader sees: each kind from its own informer, so tickets and backups lag apart. */
  view(reader: string): { tickets: Map<string, Stored>; backups: PVCBackup[] } {
    return { tickets: this.snapshot(`${reader} tickets`).tickets, backups: this.snapshot(`${reader} backups`).backups };
  }
  private snapshot(informer: string) {
    const newest = this.history.length - 1;
    const oldest = Math.max(this.seen.get(informer) ?? 0, newest - this.maxLag);
    const at = oldest + Math.floor(this.next() * (newest - oldest + 1));
    this.seen.set(informer, at);
    return this.history[at] as { tickets: Map<string, Stored>; backups: PVCBackup[] };
  }
  apply(observed: Map<string, Stored>, desired: ConfigMap[]): void {
    const wanted = new Set(desired.map(keyOf));
    for (const [key, stored] of observed) if (!wanted.has(key) && this.tickets.get(key)?.uid === stored.uid) this.tickets.delete(key);
    for (const t of desired) if (!this.tickets.has(keyOf(t))) this.tickets.set(keyOf(t), { ticket: t, uid: this.nextUid++ });
    this.record();
  }
  update(name: string, change: (b: PVCBackup) => PVCBackup): void {
    this.backups = this.backups.map((b) => (b.metadata.name === name ? change(b) : b));
    this.record();
  }
}

describe('backup queue: lagging views never let more than the limit run', () => {
  for (const [limit, seeds] of [[1, 150], [3, 100]] as const) {
    it(`limit ${limit}: ${seeds} interleavings of 12 backups over 6 PVCs, views up to 6 changes behind`, () => {
      const config = testConfig({ BACKSNAP_MAX_RUNNING_BACKUPS: String(limit) });
      let maxRunning = 0;
      let overlaps = 0;
      let startsCounted = 0;
      for (let seed = 1; seed <= seeds; seed += 1) {
        const next = random(seed);
        // Equal creation times, as for backups of one schedule slot, arriving in a random order, so a
        // later view can hold a backup sorting ahead of those an earlier one admitted.
        const arriving = Array.from({ length: 12 }, (_, i) => waiting(`b${String(i).padStart(2, '0')}`, `p${i % 6}`, 1)).sort(() => next() - 0.5);
        const cluster = new Cluster([], next, 6);
        const starts = new Map<string, number>();
        for (let step = 0; step < 5000 && (arriving.length > 0 || cluster.backups.some((b) => b.status?.result === undefined)); step += 1) {
          const roll = next();
          if (roll < 0.1 && arriving.length > 0) {
            cluster.backups = [...cluster.backups, arriving.pop() as PVCBackup];
            cluster.record();
          } else if (roll < 0.35) {
            const view = cluster.view('queue');
            const held = [...view.tickets.values()].map((s) => s.ticket);
            cluster.apply(view.tickets, admitBackups(view.backups, held, config, QUEUE_NS).tickets);
          } else {
            const me = cluster.backups[Math.floor(next() * cluster.backups.length)];
            if (me === undefined || me.status?.result !== undefined) continue;
            if (me.status?.phase === 'Running') {
              if (roll > 0.8) cluster.update(me.metadata.name, (b) => ({ ...b, status: DONE }));
              continue;
            }
            const tickets = cluster.view(`backup ${me.metadata.name}`).tickets;
            const seen = (name: string) => tickets.get(`apps/${name}`)?.ticket;
            if (claimSlot(me, seen(admissionTicketName(me.metadata.uid ?? '')), seen(volumeTicketName((me.spec as { pvc: string }).pvc)), config).granted) {
              starts.set(me.metadata.name, (starts.get(me.metadata.name) ?? 0) + 1);
              cluster.update(me.metadata.name, (b) => ({ ...b, status: RUNNING }));
            }
          }
        }
        assert.ok(cluster.backups.every((b) => b.status?.result !== undefined), `seed ${seed}: every backup got its turn: ${cluster.backups.map((b) => `${b.metadata.name}:${b.status?.phase ?? '-'}`).join(' ')} tickets ${[...cluster.tickets.keys()].join(' ')} ${[...cluster.tickets.values()].map((s) => s.ticket.data?.['pvcbackup']).join(' ')}`);
        assert.ok([...starts.values()].every((n) => n === 1), `seed ${seed}: a backup started twice`);
        assert.ok([...cluster.tickets.values()].every((s) => ticketHolder(s.ticket) !== ''));
        maxRunning = Math.max(maxRunning, cluster.maxRunning);
        overlaps += cluster.sameVolumeOverlap;
        startsCounted += starts.size;
      }
      assert.equal(startsCounted, 12 * seeds, 'every backup started exactly once');
      assert.equal(overlaps, 0, 'two backups of one PVC ran at once');
      assert.ok(maxRunning <= limit, `${maxRunning} backups ran at once, limit ${limit}`);
      assert.equal(maxRunning, limit, 'the limit was reached, so the test can fail');
    });
  }
});

describe('backup queue: hook', () => {
  const controller = { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'DecoratorController', metadata: { name: 'backsnap-backup-queue' } };
  const queueSync = (related: KubeObject[], attachments: KubeObject[], env: Record<string, string> = {}) =>
    post<DecoratorSyncResponse>(testApp(testConfig(env)), '/hooks/backup-queue/sync', { controller, object: namespace(QUEUE_NS), attachments: { 'ConfigMap.v1': {}, ...groups(attachments) }, related: groups(related), finalizing: false });

  it('answers with the tickets only: volume and admission next to the backup, slots in its own Namespace', async () => {
    const a = waiting('a', 'pa', 3, 'team-a');
    const env = { BACKSNAP_MAX_RUNNING_BACKUPS: '2' };
    const reserved = await queueSync([a, running('r', 'pr')], [], env);
    assert.deepEqual(Object.keys(reserved), ['attachments']);
    assert.deepEqual(reserved.attachments.map(keyOf), ['team-a/backup-volume-pa']);
    const slotted = await queueSync([a, running('r', 'pr')], [volumeTicket(a)], env);
    assert.deepEqual(slotted.attachments.map(keyOf), [`${QUEUE_NS}/backup-slot-0`, 'team-a/backup-volume-pa']);
    const admitted = await queueSync([a, running('r', 'pr')], [volumeTicket(a), slotTicket(a, 0, QUEUE_NS)], env);
    assert.deepEqual(admitted.attachments.map(keyOf), [`${QUEUE_NS}/backup-slot-0`, 'team-a/backup-admitted-uid-team-a-a', 'team-a/backup-volume-pa']);
  });
});

describe('backup gate in the PVCBackup sync', () => {
  const me = waiting('me', 'data', 1);
  const other = waiting('other', 'data', 5);
  const decide = (tickets: ConfigMap[], env: Record<string, string> = {}, parent: PVCBackup = me, children: KubeObject[] = []) =>
    post<Answer>(testApp(testConfig(env)), '/hooks/pvcbackup/sync', syncRequest(parent, children, [pvc('data'), ...tickets], BACKUP_CHILD_GROUPS));
  const reason = (a: Answer) => a.status.conditions?.find((c) => c.type === 'Ready')?.reason;
  const kinds = (a: Answer) => a.children.map((c) => c.kind);
  const cases: { name: string; tickets: ConfigMap[]; env?: Record<string, string>; starts: boolean; children: string[]; reason?: string; message?: RegExp }[] = [
    { name: 'starts with its admission ticket', tickets: admissionTickets(me), starts: true, children: ['Secret', 'VolumeSnapshot'] },
    { name: 'the admission alone is enough (the volume ticket not seen yet)', tickets: [admissionTicket(me)], starts: true, children: ['Secret', 'VolumeSnapshot'] },
    { name: 'waits without tickets, however idle the cluster looks', tickets: [], starts: false, children: [], reason: 'WaitingForSlot', message: /waiting for the backup queue \(DecoratorController backsnap-backup-queue; at most 1 backups run at once\)/ },
    { name: 'with its volume but no admission, waits next in line and takes its snapshot ahead', tickets: [volumeTicket(me)], starts: false, children: ['VolumeSnapshot'], reason: 'WaitingForSlot', message: /next in line.*its VolumeSnapshot is taken ahead/ },
    { name: "another backup's admission ticket is not its own", tickets: [volumeTicket(me), { ...admissionTicket(other), metadata: { ...admissionTicket(other).metadata, name: admissionTicketName(me.metadata.uid ?? '') } }], starts: false, children: ['VolumeSnapshot'], reason: 'WaitingForSlot' },
    { name: 'with its volume and snapshots ahead turned off, waits next in line and takes nothing', tickets: [volumeTicket(me)], env: { BACKSNAP_SNAPSHOT_AHEAD: 'false' }, starts: false, children: [], reason: 'WaitingForSlot', message: /next in line, waiting for a slot \(/ },
    { name: 'waits while another backup holds the volume, and names it', tickets: [volumeTicket(other)], starts: false, children: [], reason: 'WaitingForSameVolume', message: /backup apps\/other of the same PVC goes first/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const answer = await decide(c.tickets, c.env);
      assert.equal(answer.status.phase, c.starts ? 'Running' : 'Pending');
      assert.deepEqual(kinds(answer), c.children);
      assert.equal(answer.status.startedAt !== undefined, c.starts, 'only a started backup has a start time');
      if (c.reason !== undefined) assert.equal(reason(answer), c.reason);
      if (c.message !== undefined) assert.match(answer.status.message ?? '', c.message);
      if (!c.starts) assert.ok((answer.resyncAfterSeconds ?? 0) > 0, 'a waiting backup is looked at again');
    });
  }
});

describe('the snapshot a backup takes ahead of its start', () => {
  const me = waiting('me', 'data', 1);
  const sync = (parent: PVCBackup, children: KubeObject[], tickets: ConfigMap[]) =>
    post<Answer>(testApp(testConfig()), '/hooks/pvcbackup/sync', syncRequest(parent, children, [pvc('data'), ...tickets], BACKUP_CHILD_GROUPS));
  const kinds = (a: Answer) => a.children.map((c) => c.kind);
  const takeAhead = async () => {
    const answer = await sync(me, [], [volumeTicket(me)]);
    const snapshot = answer.children.find((c): c is VolumeSnapshot => c.kind === 'VolumeSnapshot');
    assert.ok(snapshot);
    return { ...snapshot, metadata: { ...snapshot.metadata, uid: 'snapshot-uid', creationTimestamp: minutesAgo(0.5) } };
  };

  it('is marked as made ahead of the start and carries no start time', async () => {
    const snapshot = await takeAhead();
    assert.equal(snapshot.metadata.annotations?.[AHEAD_OF_START_ANNOTATION], 'true');
    assert.equal(snapshot.metadata.annotations?.[STARTED_AT_ANNOTATION], undefined);
    assert.equal(snapshot.spec.source.persistentVolumeClaimName, 'data');
  });

  it('does not start the backup when observed: no Secret, no Job without the admission ticket', async () => {
    const snapshot = readySnapshot(await takeAhead());
    for (const tickets of [[volumeTicket(me)], []]) {
      const answer = await sync(me, [snapshot], tickets);
      assert.equal(answer.status.phase, 'Pending');
      assert.equal(answer.status.startedAt, undefined);
      assert.deepEqual(kinds(answer), ['VolumeSnapshot'], 'the snapshot is kept, nothing is added');
    }
  });

  it('once admitted and ready, the first sync creates the Secret, the temporary PVC and the Job together', async () => {
    const snapshot = readySnapshot(await takeAhead(), '2Gi');
    const answer = await sync(me, [snapshot], admissionTickets(me));
    assert.equal(answer.status.phase, 'Running');
    assert.equal(answer.status.startedAt, formatTime(NOW));
    assert.deepEqual(kinds(answer), ['Secret', 'VolumeSnapshot', 'PersistentVolumeClaim', 'Job']);
    const temporary = answer.children.find((c): c is PersistentVolumeClaim => c.kind === 'PersistentVolumeClaim');
    assert.equal(temporary?.spec.resources?.requests?.['storage'], '2Gi');
  });

  it('once admitted and not ready yet, waits for it as a backup that took it at its start', async () => {
    const answer = await sync(me, [await takeAhead()], admissionTickets(me));
    assert.equal(answer.status.phase, 'Running');
    assert.deepEqual(kinds(answer), ['Secret', 'VolumeSnapshot']);
    assert.equal(answer.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'SnapshotPending');
  });

  it('a started backup whose own children are not observed yet creates nothing new, however stale its view', async () => {
    const startedMe: PVCBackup = { ...me, status: { phase: 'Running', startedAt: minutesAgo(0.2) } };
    const answer = await sync(startedMe, [readySnapshot(await takeAhead())], admissionTickets(me));
    assert.deepEqual(kinds(answer), ['VolumeSnapshot']);
    assert.equal(answer.status.phase, 'Running');
  });

  it("a spec's annotations cannot mark the run's own children as made ahead", async () => {
    const marking = created(backup('marking', { pvc: 'data', annotations: { [AHEAD_OF_START_ANNOTATION]: 'true', team: 'a' } }), 1);
    const answer = await sync(marking, [], admissionTickets(marking));
    assert.deepEqual(kinds(answer), ['Secret', 'VolumeSnapshot']);
    for (const child of answer.children) {
      assert.equal(child.metadata.annotations?.[AHEAD_OF_START_ANNOTATION], undefined, child.kind);
      assert.equal(child.metadata.annotations?.['team'], 'a', child.kind);
    }
  });

  it('is deleted with the rest when the waiting backup fails (its PVC is being deleted)', async () => {
    const snapshot = await takeAhead();
    const deleting = { ...pvc('data'), metadata: { ...pvc('data').metadata, deletionTimestamp: minutesAgo(0) } };
    const failedOnce = await post<Answer>(testApp(testConfig()), '/hooks/pvcbackup/sync', syncRequest(me, [snapshot], [deleting, volumeTicket(me)], BACKUP_CHILD_GROUPS));
    assert.equal(failedOnce.status.result, 'Failed');
    assert.deepEqual(kinds(failedOnce), ['VolumeSnapshot'], 'the deciding sync keeps it');
    const retired = await post<Answer>(testApp(testConfig()), '/hooks/pvcbackup/sync', syncRequest({ ...me, status: failedOnce.status }, [snapshot], [deleting], BACKUP_CHILD_GROUPS));
    assert.deepEqual(kinds(retired), [], 'then it is deleted');
  });
});
