// Contract tests of POST /hooks/pvcbackup/sync: every phase of the backup state machine and its
// failure paths, through the real route with Metacontroller v2 payloads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, KubeObject, PersistentVolumeClaim, Secret, VolumeSnapshot } from '../../src/kube/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import { admissionTickets,
  BACKUP_CHILD_GROUPS, BACKUP_SUMMARY, NOW, SECRET_VALUES, backup, finishedJob, minutesAgo, pvc, readySnapshot, syncRequest, terminatedPod, testApp, testConfig,
} from '../support/fixtures.ts';
import { World } from '../support/world.ts';
import { assertCompositeShape, assertFixedPoint, assertSafeChildren, droppedChildren, post, type SyncAnswer } from '../support/hooks.ts';

const URL = '/hooks/pvcbackup/sync';
type Answer = SyncAnswer<PVCBackupStatus>;
const app = testApp();

/** With the backup's slot ticket, as once the queue admitted it (test/contract/pvcbackup-queue.test.ts). */
function request(parent: PVCBackup, children: KubeObject[] = [], related: KubeObject[] = [pvc('data')]) {
  return syncRequest(parent, children, [...related, ...admissionTickets(parent)], BACKUP_CHILD_GROUPS);
}

async function sync(parent: PVCBackup, children: KubeObject[] = [], related: KubeObject[] = [pvc('data')], application = app): Promise<Answer> {
  const answer = await post<Answer>(application, URL, request(parent, children, related));
  assertCompositeShape(answer);
  assertSafeChildren(answer.children);
  return answer;
}

function child<T extends KubeObject>(answer: Answer, kind: T['kind']): T {
  const found = answer.children.find((c) => c.kind === kind);
  assert.ok(found, `no ${kind} among ${answer.children.map((c) => c.kind).join(', ')}`);
  return found as T;
}

function condition(answer: Answer, type: string) {
  return answer.status.conditions?.find((c) => c.type === type);
}

/** The backup `nightly` of PVC `data`, first synced ten minutes before NOW. */
function backupWorld(parent = backup('nightly', { pvc: 'data' }, { metadata: { ...backup('nightly', {}).metadata, creationTimestamp: minutesAgo(11) } })) {
  return new World<PVCBackup, PVCBackupStatus>(URL, parent, BACKUP_CHILD_GROUPS, [pvc('data'), ...admissionTickets(parent)], testConfig(), new Date(NOW.getTime() - 10 * 60_000));
}

/** A backup whose restic Job was just created. */
async function runningWorld() {
  const world = backupWorld();
  await world.sync();
  world.update<VolumeSnapshot>('VolumeSnapshot', readySnapshot);
  world.advance(5000);
  await world.sync();
  return world;
}

/** A backup that started: its status and the children of its first answer. */
async function started(parent = backup('nightly', { pvc: 'data' })) {
  const first = await sync(parent);
  return { parent: { ...parent, status: first.status }, first };
}

describe('PVCBackup sync: happy path', () => {
  it('starts with a credentials Secret and a VolumeSnapshot of the source PVC', async () => {
    const answer = await sync(backup('nightly', { pvc: 'data' }));
    assert.equal(answer.status.phase, 'Running');
    assert.equal(answer.status.startedAt, '2026-11-29T12:00:00Z');
    assert.deepEqual(answer.children.map((c) => c.kind), ['Secret', 'VolumeSnapshot']);
    const snapshot = child<VolumeSnapshot>(answer, 'VolumeSnapshot');
    assert.equal(snapshot.spec.source.persistentVolumeClaimName, 'data');
    assert.equal(snapshot.metadata.name, 'backup-nightly');
    assert.equal(condition(answer, 'Ready')?.reason, 'SnapshotPending');
    assert.equal(condition(answer, 'Failed')?.status, 'False');
    assert.ok(answer.resyncAfterSeconds !== undefined && answer.resyncAfterSeconds > 0, 'asks to be synced again for the snapshot timeout');
  });

  it('puts the repository and every credential in the Secret, keyed as restic expects', async () => {
    const secret = child<Secret>(await sync(backup('nightly', { pvc: 'data' })), 'Secret');
    const decoded = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(decoded, {
      AWS_ACCESS_KEY_ID: SECRET_VALUES[1],
      AWS_SECRET_ACCESS_KEY: SECRET_VALUES[2],
      RESTIC_PASSWORD: SECRET_VALUES[0],
      RESTIC_REPOSITORY: 's3:http://minio.backsnap:9000/backups/apps/data',
    });
  });

  it('is a fixed point while the snapshot is not ready', async () => {
    const { parent, first } = await started();
    await assertFixedPoint(app, URL, request(parent), first);
  });

  it('adds the temporary PVC and the restic Job once the snapshot is ready', async () => {
    const { parent, first } = await started();
    const snapshot = readySnapshot(child<VolumeSnapshot>(first, 'VolumeSnapshot'), '2Gi');
    const answer = await sync(parent, [...first.children, snapshot]);
    assert.deepEqual(answer.children.map((c) => c.kind), ['Secret', 'VolumeSnapshot', 'PersistentVolumeClaim', 'Job']);
    const temporary = child<PersistentVolumeClaim>(answer, 'PersistentVolumeClaim');
    assert.equal(temporary.spec.resources?.requests?.['storage'], '2Gi', 'sized from the snapshot restoreSize');
    assert.equal(temporary.spec.storageClassName, 'fast-ssd', "the source PVC's storage class");
    assert.deepEqual(temporary.spec.dataSource, { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'backup-nightly' });
    assert.equal(temporary.metadata.annotations?.['backsnap.skyb.it/schedule'], '', 'never scheduled for backup itself');
    assert.equal(answer.status.startedAt, parent.status?.startedAt);
    assert.equal(condition(answer, 'Ready')?.reason, 'BackupRunning');
    await assertFixedPoint(app, URL, request(parent, [...first.children, snapshot]), answer);
  });

  it('runs a hardened, read-only restic Job that gets credentials only from the Secret', async () => {
    const { parent, first } = await started();
    const answer = await sync(parent, [...first.children, readySnapshot(child<VolumeSnapshot>(first, 'VolumeSnapshot'))]);
    const job = child<Job>(answer, 'Job');
    const pod = job.spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(pod.securityContext?.['seccompProfile'], { type: 'RuntimeDefault' });
    assert.deepEqual(container.securityContext?.['capabilities'], { drop: ['ALL'], add: ['DAC_READ_SEARCH'] });
    assert.equal(container.securityContext?.['allowPrivilegeEscalation'], false);
    assert.deepEqual(container.envFrom, [{ secretRef: { name: 'backup-nightly' } }]);
    assert.ok(container.env?.every((e) => !['RESTIC_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'RESTIC_REPOSITORY'].includes(e.name)));
    assert.deepEqual(pod.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'backup-nightly', readOnly: true });
    assert.equal(container.volumeMounts?.find((m) => m.name === 'data')?.mountPath, '/data');
    assert.equal(job.spec.template.metadata?.labels?.['backsnap.skyb.it/run-uid'], 'uid-apps-nightly');
    assert.equal(container.image, 'restic/restic:0.18.1');
  });

  it('succeeds with the restic snapshot id and statistics at the Job\'s completion, then drops every child', async () => {
    const world = await runningWorld();
    world.now = NOW;
    world.update<Job>('Job', (job) => finishedJob(job, 'Complete', new Date(NOW.getTime() - 6000)));
    world.related.push(terminatedPod('apps', 'uid-apps-nightly', 0, BACKUP_SUMMARY));
    const decided = await world.sync();
    assert.equal(decided.status.result, 'Succeeded');
    assert.equal(decided.status.phase, 'Succeeded');
    assert.equal(decided.status.startedAt, '2026-11-29T11:50:00Z');
    assert.equal(decided.status.finishedAt, '2026-11-29T11:59:54Z', "the Job's completionTime, not the sync's clock");
    assert.equal(decided.status.duration, '9m54s');
    assert.equal(decided.status.snapshotId, 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90');
    assert.deepEqual(decided.status.statistics, {
      filesNew: 3, filesChanged: 1, filesUnmodified: 10, dataAddedBytes: 4096, totalFilesProcessed: 14, totalBytesProcessed: 104857600,
    });
    assert.equal(condition(decided, 'Ready')?.status, 'True');
    assert.equal(condition(decided, 'Ready')?.lastTransitionTime, '2026-11-29T11:59:54Z');
    assert.equal(decided.children.length, 4, 'the sync that decides keeps every child: a stale next sync must still see them');
    assert.deepEqual(world.deleted, []);
    world.advance(1000);
    const retired = await world.sync();
    assert.deepEqual(retired.children, [], 'dropped once the observed parent carries the result');
    assert.deepEqual(retired.status, decided.status);
    assert.deepEqual(world.deleted.sort(), ['Job/backup-nightly', 'PersistentVolumeClaim/backup-nightly', 'Secret/backup-nightly', 'VolumeSnapshot/backup-nightly']);
    assert.deepEqual(world.created.filter((k) => k.startsWith('Job/')), ['Job/backup-nightly'], 'one Job');
  });

  it('waits a little for the Pod summary after the Job completed, then succeeds without it', async () => {
    const world = await runningWorld();
    world.now = NOW;
    world.update<Job>('Job', (job) => finishedJob(job, 'Complete', NOW));
    const waiting = await world.sync();
    assert.equal(waiting.status.phase, 'Running');
    assert.equal(condition(waiting, 'Ready')?.reason, 'CollectingResults');
    assert.equal(waiting.children.length, 4, 'keeps every child while waiting');
    world.advance(5 * 60_000);
    const answer = await world.sync();
    assert.equal(answer.status.result, 'Succeeded');
    assert.equal(answer.status.finishedAt, '2026-11-29T12:00:00Z');
    assert.equal(answer.status.snapshotId, undefined);
    assert.deepEqual((await world.sync()).children, []);
  });

  it('stays finished: a succeeded backup is a fixed point with no children', async () => {
    const status: PVCBackupStatus = { phase: 'Succeeded', result: 'Succeeded', startedAt: minutesAgo(10), finishedAt: minutesAgo(5), duration: '5m0s', message: 'done' };
    const parent = backup('nightly', { pvc: 'data' }, { status });
    const answer = await sync(parent, [], []);
    assert.equal(answer.status.result, 'Succeeded');
    assert.equal(answer.status.finishedAt, status.finishedAt);
    assert.deepEqual(answer.children, []);
    await assertFixedPoint(app, URL, request(parent, [], []), answer);
  });
});

describe('PVCBackup sync: failures', () => {
  it('fails with the restic error when the Job failed, keeping only the Job for its logs', async () => {
    const world = await runningWorld();
    world.now = NOW;
    world.update<Job>('Job', (job) => finishedJob(job, 'Failed', new Date(NOW.getTime() - 30_000), 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'));
    world.related.push(terminatedPod('apps', 'uid-apps-nightly', 1, 'cannot open the repository (restic exit 1): wrong password or no key found'));
    const answer = await world.sync();
    assert.equal(answer.status.result, 'Failed');
    assert.equal(answer.status.phase, 'Failed');
    assert.equal(answer.status.finishedAt, '2026-11-29T11:59:30Z');
    assert.equal(condition(answer, 'Failed')?.status, 'True');
    assert.equal(condition(answer, 'Failed')?.reason, 'JobFailed');
    assert.match(answer.status.message ?? '', /wrong password/);
    assert.equal(answer.children.length, 4, 'the deciding sync keeps every child');
    const retired = await world.sync();
    assert.deepEqual(retired.children.map((c) => `${c.kind}/${c.metadata.name}`), ['Job/backup-nightly']);
    const after = await world.sync();
    assert.deepEqual(after.children.map((c) => c.kind), ['Job'], 'the failed Job stays on later syncs');
    assert.deepEqual({ ...after.status, conditions: after.status.conditions?.filter((c) => c.type !== 'Retired') }, answer.status);
    assert.equal(condition(after, 'Retired')?.reason, 'Settling', 'only the Job it keeps is left');
  });

  it('fails when the snapshot is not ready before the snapshot timeout, naming the last error', async () => {
    const world = backupWorld();
    await world.sync();
    world.update<VolumeSnapshot>('VolumeSnapshot', (s) => ({ ...s, status: { readyToUse: false, error: { message: 'driver unavailable' } } }));
    const meanwhile = await world.sync();
    assert.equal(condition(meanwhile, 'Ready')?.reason, 'SnapshotError');
    assert.equal(meanwhile.status.phase, 'Running');
    world.advance(15 * 60_000 + 5000);
    const settling = await world.sync();
    assert.equal(settling.status.result, undefined, 'waits a few seconds past the deadline for children a lagging cache may hide');
    world.update<VolumeSnapshot>('VolumeSnapshot', readySnapshot);
    assert.equal((await world.sync()).children.length, 2, 'a snapshot ready after the deadline gets no Job');
    world.advance(5000);
    const answer = await world.sync();
    assert.equal(answer.status.result, 'Failed');
    assert.equal(condition(answer, 'Failed')?.reason, 'SnapshotTimeout');
    assert.match(answer.status.message ?? '', /not ready after 900s/);
    assert.equal(answer.status.duration, '15m0s', 'finished at the deadline');
    assert.equal(answer.children.length, 2);
    assert.deepEqual((await world.sync()).children, []);
    assert.ok(!world.created.some((k) => k.startsWith('Job/')));
  });

  it('fails a Job that outlives its own deadline and stops it', async () => {
    const world = await runningWorld();
    world.advance(7 * 3600_000);
    const answer = await world.sync();
    assert.equal(condition(answer, 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(answer.status.finishedAt, '2026-11-29T17:55:05Z', 'at the Job deadline plus the slack');
    assert.deepEqual((await world.sync()).children, [], 'the runaway Job is deleted so it frees the repository');
  });

  const sourceCases: { name: string; related: PersistentVolumeClaim[]; reason: string; waitsFirst: boolean }[] = [
    { name: 'missing source PVC', related: [], reason: 'SourcePVCNotFound', waitsFirst: true },
    { name: 'pending source PVC', related: [pvc('data', 'apps', { phase: 'Pending' })], reason: 'SourcePVCNotBound', waitsFirst: true },
    { name: 'source PVC being deleted', related: [{ ...pvc('data'), metadata: { ...pvc('data').metadata, deletionTimestamp: minutesAgo(0) } }], reason: 'SourcePVCDeleting', waitsFirst: false },
    { name: 'block source PVC', related: [{ ...pvc('data'), spec: { ...pvc('data').spec, volumeMode: 'Block' } }], reason: 'UnsupportedVolumeMode', waitsFirst: false },
  ];
  for (const c of sourceCases) {
    it(`reports a ${c.name} (${c.reason})`, async () => {
      const parent = backup('nightly', { pvc: 'data' });
      const answer = await sync(parent, [], c.related);
      assert.equal(condition(answer, 'Ready')?.reason, c.reason);
      assert.deepEqual(answer.children, []);
      if (c.waitsFirst) {
        assert.equal(answer.status.phase, 'Pending', 'waits out the start grace first');
        assert.ok((answer.resyncAfterSeconds ?? 0) > 0);
        const late = new Date(NOW.getTime() + 3 * 60_000);
        const after = await post<Answer>(testApp(testConfig(), late), URL, request(parent, [], c.related));
        assert.equal(after.status.result, 'Failed');
        assert.equal(condition(after, 'Failed')?.reason, c.reason);
      } else {
        assert.equal(answer.status.result, 'Failed');
      }
    });
  }
});

describe('PVCBackup sync: objects of the Go backsnap', () => {
  it('ends a run that backsnap started and never finished as Failed, freeing its slot', async () => {
    const stuck = backup('nightly', { pvc: 'data', ttl: '72h0m0s' }, { status: { startedAt: minutesAgo(600) } });
    const answer = await sync(stuck);
    assert.equal(answer.status.result, 'Failed');
    assert.equal(condition(answer, 'Failed')?.reason, 'StartedByBacksnap');
    assert.deepEqual(answer.children, []);
  });

  it("keeps a finished backsnap backup's status as it is", async () => {
    const status: PVCBackupStatus = { startedAt: minutesAgo(60), finishedAt: minutesAgo(59), duration: '1m5s', result: 'Succeeded' };
    const answer = await sync(backup('old', { pvc: 'data', ttl: '72h0m0s' }, { status }));
    assert.equal(answer.status.result, 'Succeeded');
    assert.equal(answer.status.duration, '1m5s');
    assert.equal(answer.status.finishedAt, status.finishedAt);
  });
});

describe('PVCBackup sync: invalid input', () => {
  const invalid: { name: string; spec: unknown; message: RegExp }[] = [
    { name: 'missing pvc', spec: {}, message: /spec\.pvc is required/ },
    { name: 'bad ttl', spec: { pvc: 'data', ttl: 'three days' }, message: /spec\.ttl/ },
    { name: 'pvc of the wrong type', spec: { pvc: 42 }, message: /spec\.pvc/ },
    { name: 'no spec at all', spec: undefined, message: /invalid spec/ },
  ];
  for (const c of invalid) {
    it(`reports ${c.name} as InvalidSpec and keeps every child`, async () => {
      const { first } = await started();
      const parent = { ...backup('nightly', c.spec), status: first.status };
      const req = request(parent, first.children);
      const answer = await post<Answer>(app, URL, req);
      assertCompositeShape(answer);
      assert.equal(condition(answer, 'Ready')?.reason, 'InvalidSpec');
      assert.match(answer.status.message ?? '', c.message);
      assert.deepEqual(droppedChildren(req, answer), [], 'an invalid spec never deletes children');
    });
  }

  it('hash-truncates child names of long PVCBackup names to 63 characters, distinctly', async () => {
    const long = `${'a'.repeat(120)}-1732838400`;
    const other = `${'a'.repeat(120)}-1732924800`;
    const a = await sync(backup(long, { pvc: 'data' }));
    const b = await sync(backup(other, { pvc: 'data' }));
    const nameA = a.children[0]?.metadata.name ?? '';
    assert.ok(nameA.length <= 63 && nameA.startsWith('backup-aaaa'));
    assert.notEqual(nameA, b.children[0]?.metadata.name);
  });

  it('leaves a backup in a namespace outside the operator scope pending with a reason', async () => {
    const scoped = testApp(testConfig({ BACKSNAP_EXCLUDE_NAMESPACES: 'apps' }));
    const answer = await sync(backup('nightly', { pvc: 'data' }), [], [pvc('data')], scoped);
    assert.equal(answer.status.phase, 'Pending');
    assert.equal(condition(answer, 'Ready')?.reason, 'NamespaceNotInScope');
    assert.deepEqual(answer.children, []);
  });
});

describe('PVCBackup sync: retirement (Metacontroller stops syncing it)', () => {
  async function succeeded() {
    const world = await runningWorld();
    world.now = NOW;
    world.update<Job>('Job', (job) => finishedJob(job, 'Complete', new Date(NOW.getTime() - 6000)));
    world.related.push(terminatedPod('apps', 'uid-apps-nightly', 0, BACKUP_SUMMARY));
    await world.sync();
    return world;
  }

  it('is marked Retired a settle time after nothing but what it keeps is observed, and then changes nothing', async () => {
    const world = await succeeded();
    const deleting = await world.sync();
    assert.deepEqual(deleting.children, []);
    assert.equal(condition(deleting, 'Retired'), undefined, 'its children are still observed: not retired');
    world.advance(1000);
    const settling = await world.sync();
    const since = condition(settling, 'Retired');
    assert.deepEqual([since?.status, since?.reason], ['False', 'Settling']);
    assert.equal(settling.resyncAfterSeconds, 60, 'comes back when the settle time is over');
    world.advance(59_000);
    const still = await world.sync();
    assert.deepEqual(still.status, settling.status, 'not before the settle time is over');
    world.advance(1000);
    const retired = await world.sync();
    const marked = condition(retired, 'Retired');
    assert.deepEqual([marked?.status, marked?.reason, marked?.lastTransitionTime], ['True', 'Retired', '2026-11-29T12:01:01Z']);
    assert.equal(retired.status.result, 'Succeeded');
    assert.equal(retired.resyncAfterSeconds, undefined);
    world.advance(3600_000);
    assert.deepEqual(await world.sync(), retired, 'a fixed point (for a Metacontroller without the label selector)');
    assert.deepEqual(world.created.filter((k) => k.startsWith('Job/')), ['Job/backup-nightly'], 'one Job');
  });

  it('is not marked while a child it drops is observed again (a lagging view)', async () => {
    const world = await succeeded();
    const observedBefore = world.request();
    await world.sync();
    world.advance(1000);
    await world.sync();
    world.advance(60_000);
    // The children, as a cache that has not seen their deletion yet would still show them.
    const laggingRequest = { ...world.request(), children: observedBefore.children };
    const lagging = await world.ask(laggingRequest);
    assert.deepEqual([condition(lagging, 'Retired')?.status, condition(lagging, 'Retired')?.reason], ['False', 'Settling']);
    assert.deepEqual(droppedChildren(laggingRequest, lagging), ['Job/backup-nightly', 'PersistentVolumeClaim/backup-nightly', 'Secret/backup-nightly', 'VolumeSnapshot/backup-nightly']);
  });

  it('a failed backup keeps its Job and is retired with it', async () => {
    const world = await runningWorld();
    world.update<Job>('Job', (job) => finishedJob(job, 'Failed', world.now, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'));
    await world.sync();
    await world.sync();
    await world.sync();
    world.advance(60_000);
    const retired = await world.sync();
    assert.equal(condition(retired, 'Retired')?.status, 'True');
    assert.deepEqual(retired.children.map((c) => c.kind), ['Job']);
  });

  it('counts a child being deleted as gone (the temporary PVC a kept Job\'s Pod holds Terminating)', async () => {
    const world = await runningWorld();
    const temporary = world.child<PersistentVolumeClaim>('PersistentVolumeClaim');
    world.update<Job>('Job', (job) => finishedJob(job, 'Failed', world.now, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'));
    await world.sync();
    await world.sync();
    assert.deepEqual(world.deleted.filter((k) => k.startsWith('PersistentVolumeClaim/')), ['PersistentVolumeClaim/backup-nightly']);
    world.children.set('PersistentVolumeClaim/backup-nightly', { ...temporary, metadata: { ...temporary.metadata, deletionTimestamp: world.now.toISOString() } });
    assert.equal(condition(await world.sync(), 'Retired')?.reason, 'Settling');
    world.advance(60_000);
    assert.equal(condition(await world.sync(), 'Retired')?.status, 'True');
  });
});
