// Scenarios 3, 4 and 7: failures end in `Failed` with a reason and free the concurrency slot
// (nothing hangs), and a cluster-wide limit of one running backup holds.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from '../env/processes.ts';
import { RESTIC_PASSWORD, startStack, type Stack } from './stack.ts';
import {
  type Backup, createBackup, createNamespace, createPvc, finished, keepLogsOfFailures, runInVolume, verifyAndStop,
} from './support.ts';

const NS = 'e2e-failures';
const reasonOf = (b: Backup) => b.status?.conditions?.find((c) => c.type === 'Failed')?.reason;

describe('failures and the concurrency limit', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ hookEnv: { BACKSNAP_MAX_RUNNING_BACKUPS: '1' }, log: (line) => process.stderr.write(`# ${line}\n`) });
    await createNamespace(stack, NS);
    await createPvc(stack, NS, 'data');
    await runInVolume(stack, NS, 'data', 'fill', 'echo content > /data/file');
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  it('fails a backup whose restic password is wrong, with restic\'s reason, and frees the slot', async () => {
    await createBackup(stack, NS, 'good', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, NS, 'pvcbackups', 'good')).status?.result, 'Succeeded');
    await stack.restartHooks({ BACKSNAP_RESTIC_PASSWORD: 'not-the-password' });
    await createBackup(stack, NS, 'wrong-password', { pvc: 'data' });
    const failed = await finished<Backup>(stack, NS, 'pvcbackups', 'wrong-password');
    assert.equal(failed.status?.result, 'Failed');
    assert.equal(reasonOf(failed), 'JobFailed');
    assert.match(failed.status?.message ?? '', /wrong password/);
    const jobs = await stack.kube.list<{ metadata: { name: string } }>(`/apis/batch/v1/namespaces/${NS}/jobs`);
    assert.ok(jobs.items.some((j) => j.metadata.name === 'backup-wrong-password'), 'the failed Job stays for its logs');
    await stack.restartHooks({ BACKSNAP_RESTIC_PASSWORD: RESTIC_PASSWORD });
    await createBackup(stack, NS, 'after-failure', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, NS, 'pvcbackups', 'after-failure')).status?.result, 'Succeeded', 'the slot was freed');
  });

  it("fails a backup whose VolumeSnapshotClass does not exist after the snapshot timeout, with the snapshot controller's error", async () => {
    await stack.restartHooks({ BACKSNAP_SNAPSHOT_CLASS: 'does-not-exist' });
    await createBackup(stack, NS, 'missing-class', { pvc: 'data' });
    const failed = await finished<Backup>(stack, NS, 'pvcbackups', 'missing-class', 90_000);
    await stack.restartHooks({ BACKSNAP_SNAPSHOT_CLASS: '' });
    assert.equal(reasonOf(failed), 'SnapshotTimeout');
    // The real snapshot controller's words (status.error of the VolumeSnapshot).
    assert.match(failed.status?.message ?? '', /last error: .*volumesnapshotclass\.snapshot\.storage\.k8s\.io "does-not-exist" not found/);
    // startedAt and finishedAt are whole seconds of the hook's clock.
    const waited = Date.parse(failed.status?.finishedAt ?? '') - Date.parse(failed.status?.startedAt ?? '');
    assert.ok(waited >= 20_000 && waited < 40_000, `failed after ${waited} ms, not at the configured 20s`);
    const jobs = await stack.kube.list<{ metadata: { name: string } }>(`/apis/batch/v1/namespaces/${NS}/jobs`);
    assert.ok(!jobs.items.some((j) => j.metadata.name === 'backup-missing-class'), 'no Job without a snapshot');
  });

  it('never runs two backups at once with a cluster-wide limit of one, and snapshots only the next in line ahead', async () => {
    const NAMES = ['one', 'two', 'three', 'four'];
    for (const name of NAMES) {
      await createPvc(stack, NS, name);
      await runInVolume(stack, NS, name, `fill-${name}`, 'head -c 20000000 /dev/urandom > /data/random.bin');
    }
    // Every VolumeSnapshot of the namespace as the API server saw it: how many were made, how many
    // existed at once, and which were taken ahead of their backup's start.
    type Snapshot = { metadata: { uid: string; name: string; annotations?: Record<string, string> } };
    const made = new Map<string, Snapshot>();
    const live = new Set<string>();
    let mostAtOnce = 0;
    const snapshots = stack.kube.watch<Snapshot>(`/apis/snapshot.storage.k8s.io/v1/namespaces/${NS}/volumesnapshots`, ({ type, object }) => {
      if (!object.metadata.name.startsWith('backup-limit-')) return;
      if (type === 'DELETED') live.delete(object.metadata.uid);
      else if (type === 'ADDED' || type === 'MODIFIED') {
        made.set(object.metadata.uid, object);
        live.add(object.metadata.uid);
      }
      mostAtOnce = Math.max(mostAtOnce, live.size);
    }, () => {});
    await Promise.all(NAMES.map((name) => createBackup(stack, NS, `limit-${name}`, { pvc: name })));
    const runs = await Promise.all(NAMES.map((name) => finished<Backup>(stack, NS, 'pvcbackups', `limit-${name}`, 300_000)));
    snapshots.stop();
    for (const run of runs) assert.equal(run.status?.result, 'Succeeded', run.status?.message);
    // One snapshot per backup. With a limit of one: the running backup's, the next one's, and for
    // a moment a finished one's that is being deleted; never all four.
    assert.deepEqual([...made.values()].map((s) => s.metadata.name).sort(), NAMES.map((n) => `backup-limit-${n}`).sort());
    assert.ok(mostAtOnce <= 3, `${mostAtOnce} VolumeSnapshots existed at once`);
    const ahead = [...made.values()].filter((s) => s.metadata.annotations?.['backsnap.skyb.it/ahead-of-start'] === 'true').length;
    assert.ok(ahead >= NAMES.length - 1, `${ahead} of ${NAMES.length} snapshots were taken ahead of their backup's start: every one that waited should have been`);
    const intervals = runs.map((r) => [Date.parse(r.status?.startedAt ?? ''), Date.parse(r.status?.finishedAt ?? '')] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) {
      const previous = intervals[i - 1];
      const current = intervals[i];
      assert.ok(previous !== undefined && current !== undefined && current[0] >= previous[1], `backups overlap: ${JSON.stringify(intervals)}`);
    }
    // Every ticket goes once its backup finished: none is left to hold a volume or a slot.
    const tickets = '/api/v1/configmaps?labelSelector=app.kubernetes.io%2Fcomponent%3Dbacksnap-backup-queue';
    await waitFor('the backup queue to drop its tickets', async () => ((await stack.kube.list(tickets)).items.length === 0 ? true : undefined), { timeoutMs: 60_000 });
  });
});
