// Metacontroller's caches lag (DESIGN.md §4): a sync can observe the parent as it was before the
// previous sync's status write, or children as they were before its creates and deletes. Every
// run of both state machines is played through its syncs; at each step the same request is
// replayed with the parent's status one step behind, and with the children one step behind.
// No stale answer may bring back a child that was deleted, create a second Job, or take back a
// result that was already stored.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { Job, KubeObject, VolumeSnapshot } from '../../src/kube/types.ts';
import type { PVCRestore } from '../../src/restore/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import type { PVCRestoreStatus } from '../../src/schema/pvcrestore.ts';
import { admissionTickets,
  BACKUP_CHILD_GROUPS, BACKUP_SUMMARY, NOW, RESTORE_CHILD_GROUPS, backup, finishedJob, minutesAgo, namespace, pvc, readySnapshot, restore, terminatedPod, testConfig,
} from '../support/fixtures.ts';
import type { SyncAnswer } from '../support/hooks.ts';
import { childKey, World } from '../support/world.ts';

type Status = PVCBackupStatus | PVCRestoreStatus;
type AnyWorld = World<KubeObject & { status?: Status }, Status>;
/** What happens in the cluster between two syncs. */
type Event = (world: AnyWorld) => void;

const observedKeys = (children: Record<string, Record<string, KubeObject>>): Set<string> =>
  new Set(Object.values(children).flatMap((g) => Object.values(g)).map(childKey));

async function checkStaleReplays(world: AnyWorld): Promise<number> {
  let replays = 0;
  const history = world.history;
  for (let n = 1; n < history.length; n += 1) {
    const fresh = history[n];
    const previous = history[n - 1];
    if (fresh === undefined || previous === undefined) continue;
    const deletedBefore = new Set(history.slice(0, n).flatMap((h) => h.deleted));
    const stale = {
      'parent one step behind': { ...fresh.request, parent: { ...fresh.request.parent, status: previous.request.parent.status } },
      'children one step behind': { ...fresh.request, children: previous.request.children },
    };
    for (const [variant, request] of Object.entries(stale)) {
      const answer: SyncAnswer<Status> = await world.ask(request as typeof fresh.request);
      replays += 1;
      const observed = observedKeys(request.children);
      const where = `step ${n}, ${variant}`;
      for (const child of answer.children.map(childKey)) {
        // Naming an existing child is harmless (AlreadyExists); naming a deleted one makes it again.
        assert.ok(!deletedBefore.has(child) || observed.has(child), `${where}: ${child} was deleted and would be created again`);
      }
      const jobs = new Set([...world.created, ...answer.children.map(childKey)].filter((k) => k.startsWith('Job/')));
      assert.ok(jobs.size <= 1, `${where}: a second Job: ${[...jobs].join(', ')}`);
      const stored: string | undefined = fresh.request.parent.status?.result;
      if (stored !== undefined) assert.equal(answer.status.result, stored, `${where}: the stored result ${stored} is taken back`);
      if (answer.status.result !== undefined && fresh.answer.status.result !== undefined) {
        assert.equal(answer.status.result, fresh.answer.status.result, `${where}: a different result`);
      }
    }
  }
  return replays;
}

async function play(world: AnyWorld, events: Event[]): Promise<AnyWorld> {
  await world.sync();
  for (const event of events) {
    event(world);
    await world.sync();
  }
  // Retire and stay retired.
  await world.sync();
  await world.sync();
  return world;
}

const BACKUP_URL = '/hooks/pvcbackup/sync';
const RESTORE_URL = '/hooks/pvcrestore/sync';
const START = new Date(NOW.getTime() - 30 * 60_000);
const BACKUP_UID = 'uid-apps-nightly';
const RESTORE_UID = 'uid-restore-apps-back';

function backupWorld(related: KubeObject[] = [pvc('data')], parent: PVCBackup = backup('nightly', { pvc: 'data' }, { metadata: { ...backup('nightly', {}).metadata, creationTimestamp: minutesAgo(31) } })): AnyWorld {
  return new World(BACKUP_URL, parent, BACKUP_CHILD_GROUPS, [...related, ...admissionTickets(parent)], testConfig(), START) as unknown as AnyWorld;
}

function restoreWorld(parent: PVCRestore, related: KubeObject[]): AnyWorld {
  return new World(RESTORE_URL, parent, RESTORE_CHILD_GROUPS, related, testConfig(), START) as unknown as AnyWorld;
}

const later = (ms: number): Event => (w) => void w.advance(ms);
const snapshotReady: Event = (w) => void w.advance(2000).update<VolumeSnapshot>('VolumeSnapshot', readySnapshot);
const jobDone = (type: 'Complete' | 'Failed', uid: string, podMessage: string): Event => (w) => {
  w.advance(10_000).update<Job>('Job', (job) => finishedJob(job, type, w.now));
  w.related.push(terminatedPod('apps', uid, type === 'Complete' ? 0 : 1, podMessage));
};

const scenarios: { name: string; world: () => AnyWorld; events: Event[]; result: 'Succeeded' | 'Failed' | undefined; jobs: number }[] = [
  { name: 'backup succeeds', world: () => backupWorld(), events: [later(1000), snapshotReady, later(5000), jobDone('Complete', BACKUP_UID, BACKUP_SUMMARY), later(1000)], result: 'Succeeded', jobs: 1 },
  { name: 'backup Job fails', world: () => backupWorld(), events: [snapshotReady, jobDone('Failed', BACKUP_UID, 'wrong password'), later(1000)], result: 'Failed', jobs: 1 },
  { name: 'backup snapshot times out', world: () => backupWorld(), events: [later(60_000), later(14 * 60_000 + 5000), snapshotReady, later(10_000)], result: 'Failed', jobs: 0 },
  { name: 'backup Job outlives its deadline', world: () => backupWorld(), events: [snapshotReady, later(7 * 3600_000)], result: 'Failed', jobs: 1 },
  { name: 'backup of a missing PVC', world: () => backupWorld([]), events: [later(60_000), later(3 * 60_000)], result: 'Failed', jobs: 0 },
  {
    name: 'backup waits for another one of the same PVC',
    world: () => backupWorld([pvc('data'), backup('earlier', { pvc: 'data' }, { status: { phase: 'Running', startedAt: minutesAgo(40) } })]),
    events: [later(30_000), (w) => void (w.related = [pvc('data'), ...admissionTickets(w.parent as PVCBackup)]), snapshotReady, jobDone('Complete', BACKUP_UID, BACKUP_SUMMARY)],
    result: 'Succeeded',
    jobs: 1,
  },
  {
    name: 'restore succeeds',
    world: () => restoreWorld(restore('back', { sourcePvc: 'data', targetPvc: 'copy' }), [namespace('apps'), pvc('data')]),
    events: [later(1000), jobDone('Complete', RESTORE_UID, JSON.stringify({ message_type: 'restore', snapshot_id: 'f'.repeat(64) }))],
    result: 'Succeeded',
    jobs: 1,
  },
  {
    name: 'restore Job fails',
    world: () => restoreWorld(restore('back', { sourcePvc: 'data', targetPvc: 'copy' }), [namespace('apps'), pvc('data')]),
    events: [jobDone('Failed', RESTORE_UID, 'no snapshot')],
    result: 'Failed',
    jobs: 1,
  },
  {
    name: 'restore from a namespace that does not allow it',
    world: () => restoreWorld(restore('back', { sourcePvc: 'data', sourceNamespace: 'prod', targetPvc: 'copy' }), [namespace('apps'), namespace('prod')]),
    events: [later(1000)],
    result: 'Failed',
    jobs: 0,
  },
];

describe('stale observations', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: stale replays of every step change nothing that happened`, async () => {
      const world = await play(scenario.world(), scenario.events);
      assert.equal(world.parent.status?.result, scenario.result);
      assert.equal(world.created.filter((k) => k.startsWith('Job/')).length, scenario.jobs, `Jobs created: ${world.created.join(', ')}`);
      assert.equal(new Set(world.created).size, world.created.length, `a child was created twice: ${world.created.join(', ')}`);
      const replays = await checkStaleReplays(world);
      assert.ok(replays >= 2 * (scenario.events.length + 2));
    });
  }

  it('a started run whose children are not observed yet creates nothing and keeps its status', async () => {
    const world = backupWorld();
    const first = await world.sync();
    const answer = await world.ask({ ...world.request(), children: { 'Secret.v1': {}, 'Job.batch/v1': {} } });
    assert.deepEqual(answer.children, []);
    assert.deepEqual(answer.status, first.status, 'no status write, so no sync storm while the cache catches up');
  });

  it('a started run whose children never appear fails after a minute instead of hanging', async () => {
    const world = backupWorld();
    await world.sync();
    world.children.clear();
    world.advance(61_000);
    const answer = await world.sync();
    assert.equal(answer.status.result, 'Failed');
    assert.equal(answer.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'ChildrenMissing');
    assert.deepEqual(answer.children, []);
  });

  it('a stale parent without a start time still counts as started when its children exist', async () => {
    const world = backupWorld();
    const first = await world.sync();
    const answer = await world.ask({ ...world.request(), parent: { ...world.parent, status: {} } });
    assert.equal(answer.status.startedAt, first.status.startedAt, 'the start time stamped on the children');
    assert.deepEqual(answer.children.map(childKey), first.children.map(childKey));
  });

  it('answers a sync request without related objects, or with empty maps', async () => {
    const world = backupWorld();
    const { related: _related, ...withoutRelated } = world.request();
    assert.equal((await world.ask(withoutRelated)).status.phase, 'Pending');
    assert.equal((await world.ask({ ...world.request(), related: {}, children: {} })).status.phase, 'Pending');
  });
});
