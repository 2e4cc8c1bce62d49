// Contract tests of POST /hooks/pvcrestore/sync: the restore state machine and its refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, KubeObject, PersistentVolumeClaim, Secret } from '../../src/kube/types.ts';
import type { PVCRestore } from '../../src/restore/types.ts';
import type { PVCRestoreStatus } from '../../src/schema/pvcrestore.ts';
import { NOW, RESTORE_CHILD_GROUPS, finishedJob, minutesAgo, namespace, pvc, restore, syncRequest, terminatedPod, testApp, testConfig } from '../support/fixtures.ts';
import { World } from '../support/world.ts';
import { assertCompositeShape, assertFixedPoint, assertSafeChildren, droppedChildren, post, type SyncAnswer } from '../support/hooks.ts';

const URL = '/hooks/pvcrestore/sync';
type Answer = SyncAnswer<PVCRestoreStatus>;
const app = testApp();
const UID = 'uid-restore-apps-back';
const HERE = namespace('apps');

function request(parent: PVCRestore, children: KubeObject[] = [], related: KubeObject[] = [HERE, pvc('data')]) {
  return syncRequest(parent, children, related, RESTORE_CHILD_GROUPS);
}

async function sync(parent: PVCRestore, children: KubeObject[] = [], related: KubeObject[] = [HERE, pvc('data')], application = app): Promise<Answer> {
  const answer = await post<Answer>(application, URL, request(parent, children, related));
  assertCompositeShape(answer);
  assertSafeChildren(answer.children);
  return answer;
}

const reason = (a: Answer, type = 'Ready') => a.status.conditions?.find((c) => c.type === type)?.reason;
const kinds = (a: Answer) => a.children.map((c) => `${c.kind}/${c.metadata.name}`);
function child<T extends KubeObject>(answer: Answer, kind: T['kind']): T {
  const found = answer.children.find((c) => c.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found as T;
}

describe('PVCRestore sync: happy path', () => {
  const parent = restore('back', { sourcePvc: 'data', targetPvc: 'data-copy' });

  it('creates the target PVC, owned by its Namespace too, and a restic restore Job', async () => {
    const answer = await sync(parent);
    assert.equal(answer.status.phase, 'Running');
    assert.deepEqual(kinds(answer), ['Secret/restore-back', 'PersistentVolumeClaim/data-copy', 'Job/restore-back']);
    const target = child<PersistentVolumeClaim>(answer, 'PersistentVolumeClaim');
    assert.deepEqual(target.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Namespace', name: 'apps', uid: 'uid-ns-apps' }]);
    assert.equal(target.metadata.annotations?.['backsnap.skyb.it/restoring'], UID);
    assert.equal(target.spec.resources?.requests?.['storage'], '1Gi', "the source PVC's size");
    const job = child<Job>(answer, 'Job');
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(container?.env?.filter((e) => ['BACKUP_NAMESPACE', 'BACKUP_VOLUME', 'SOURCE_SNAPSHOT'].includes(e.name)), [
      { name: 'BACKUP_NAMESPACE', value: 'apps' },
      { name: 'BACKUP_VOLUME', value: 'data' },
      { name: 'SOURCE_SNAPSHOT', value: 'latest' },
    ]);
    assert.deepEqual(job.spec.template.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'data-copy', readOnly: false });
    const secret = child<Secret>(answer, 'Secret');
    assert.equal(Buffer.from(secret.data['RESTIC_REPOSITORY'] ?? '', 'base64').toString(), 's3:http://minio.backsnap:9000/backups/apps/data');
    await assertFixedPoint(app, URL, request(parent), answer);
  });

  it('defaults the target to the source PVC name and takes targetPvcSize when given', async () => {
    const answer = await sync(restore('back', { sourcePvc: 'gone', targetPvcSize: '5Gi' }), [], [HERE]);
    const target = child<PersistentVolumeClaim>(answer, 'PersistentVolumeClaim');
    assert.equal(target.metadata.name, 'gone');
    assert.equal(target.spec.resources?.requests?.['storage'], '5Gi');
  });

  function restoreWorld() {
    return new World<PVCRestore, PVCRestoreStatus>(URL, parent, RESTORE_CHILD_GROUPS, [HERE, pvc('data')], testConfig(), new Date(NOW.getTime() - 60_000));
  }

  it('succeeds with the restored snapshot id at the Job\'s completion, then keeps only the PVC', async () => {
    const world = restoreWorld();
    await world.sync();
    world.now = NOW;
    world.update<Job>('Job', (job) => finishedJob(job, 'Complete', new Date(NOW.getTime() - 20_000)));
    const report = JSON.stringify({ message_type: 'restore', snapshot_id: 'f'.repeat(64), summary: { message_type: 'summary', total_files: 7, files_restored: 7, total_bytes: 2048, bytes_restored: 2048 } });
    world.related.push(terminatedPod('apps', UID, 0, report));
    const decided = await world.sync();
    assert.equal(decided.status.result, 'Succeeded');
    assert.equal(decided.status.snapshotId, 'f'.repeat(64));
    assert.equal(decided.status.duration, '40s');
    assert.deepEqual(decided.status.statistics, { totalFiles: 7, filesRestored: 7, totalBytes: 2048, bytesRestored: 2048 });
    assert.equal(decided.children.length, 3, 'the deciding sync keeps every child');
    const retired = await world.sync();
    assert.deepEqual(world.deleted.sort(), ['Job/restore-back', 'Secret/restore-back']);
    assert.deepEqual(kinds(retired), ['PersistentVolumeClaim/data-copy'], 'the restored PVC is never dropped');
    assert.deepEqual(await world.sync(), retired);
  });

  it('fails with the reason when the Job failed, keeping the PVC and the Job', async () => {
    const world = restoreWorld();
    await world.sync();
    world.update<Job>('Job', (job) => finishedJob(job, 'Failed', NOW));
    world.related.push(terminatedPod('apps', UID, 1, 'snapshot 1234abcd of apps/data does not exist'));
    const answer = await world.sync();
    assert.equal(answer.status.result, 'Failed');
    assert.equal(reason(answer, 'Failed'), 'JobFailed');
    assert.match(answer.status.message ?? '', /does not exist/);
    assert.deepEqual(kinds(await world.sync()), ['PersistentVolumeClaim/data-copy', 'Job/restore-back']);
  });
});

describe('PVCRestore sync: refusals and invalid input', () => {
  it('refuses to touch an existing PVC it did not create', async () => {
    const answer = await sync(restore('back', { sourcePvc: 'data' }));
    assert.equal(answer.status.result, 'Failed');
    assert.equal(reason(answer, 'Failed'), 'TargetPVCExists');
    assert.deepEqual(answer.children, []);
  });

  it('waits for a target PVC that is still being deleted, then fails if it stays', async () => {
    const deleting = { ...pvc('data'), metadata: { ...pvc('data').metadata, deletionTimestamp: minutesAgo(0) } };
    const parent = restore('back', { sourcePvc: 'data', targetPvcSize: '1Gi' });
    const waiting = await sync(parent, [], [HERE, deleting]);
    assert.equal(waiting.status.phase, 'Pending');
    assert.equal(reason(waiting), 'TargetPVCDeleting');
    const late = await sync(parent, [], [HERE, deleting], testApp(testConfig(), new Date(NOW.getTime() + 5 * 60_000)));
    assert.equal(late.status.result, 'Failed');
    const gone = await sync(parent, [], [HERE]);
    assert.equal(gone.status.phase, 'Running', 'starts once the old PVC is gone');
  });

  it('does not mistake its own PVC for a foreign one', async () => {
    const parent = restore('back', { sourcePvc: 'data', targetPvc: 'copy' });
    const first = await sync(parent);
    const own = pvc('copy', 'apps', { ownerUid: UID });
    const answer = await sync({ ...parent, status: first.status }, first.children, [HERE, pvc('data'), own]);
    assert.equal(answer.status.phase, 'Running');
  });

  const crossNamespace: { name: string; related: KubeObject[]; env?: Record<string, string>; phase: string; reason?: string }[] = [
    { name: 'refuses a cross-namespace restore by default', related: [HERE, namespace('prod')], phase: 'Failed', reason: 'CrossNamespaceRestoreDenied' },
    { name: 'allows it when the source namespace lists the target', related: [HERE, namespace('prod', { 'backsnap.skyb.it/allow-restore-to': 'staging, apps' })], phase: 'Running' },
    { name: 'allows it when the source namespace allows all', related: [HERE, namespace('prod', { 'backsnap.skyb.it/allow-restore-to': '*' })], phase: 'Running' },
    { name: 'allows it when the operator allows all', related: [HERE, namespace('prod')], env: { BACKSNAP_ALLOW_CROSS_NAMESPACE_RESTORE: 'true' }, phase: 'Running' },
    { name: 'waits for a source namespace it cannot see yet', related: [HERE], phase: 'Pending', reason: 'SourceNamespaceNotFound' },
  ];
  for (const c of crossNamespace) {
    it(c.name, async () => {
      const parent = restore('back', { sourcePvc: 'data', sourceNamespace: 'prod', targetPvcSize: '1Gi' });
      const answer = await sync(parent, [], c.related, testApp(testConfig(c.env)));
      assert.equal(answer.status.phase, c.phase);
      if (c.reason !== undefined) assert.equal(reason(answer), c.reason);
      if (c.phase === 'Running') {
        const secret = child<Secret>(answer, 'Secret');
        assert.equal(Buffer.from(secret.data['RESTIC_REPOSITORY'] ?? '', 'base64').toString(), 's3:http://minio.backsnap:9000/backups/prod/data');
      }
    });
  }

  it('fails a missing source namespace after the start grace', async () => {
    const parent = restore('back', { sourcePvc: 'data', sourceNamespace: 'prod', targetPvcSize: '1Gi' });
    const late = testApp(testConfig(), new Date(NOW.getTime() + 5 * 60_000));
    const answer = await sync(parent, [], [HERE], late);
    assert.equal(answer.status.result, 'Failed');
    assert.equal(reason(answer, 'Failed'), 'SourceNamespaceNotFound');
  });

  it('asks for targetPvcSize when the source PVC is gone', async () => {
    const answer = await sync(restore('back', { sourcePvc: 'gone' }), [], [HERE]);
    assert.equal(answer.status.phase, 'Pending');
    assert.equal(reason(answer), 'TargetSizeUnknown');
    assert.match(answer.status.message ?? '', /targetPvcSize/);
  });

  const invalid: { name: string; spec: unknown; message: RegExp }[] = [
    { name: 'no sourcePvc', spec: { targetPvc: 'x' }, message: /sourcePvc is required/ },
    { name: 'a malformed size', spec: { sourcePvc: 'data', targetPvc: 'x', targetPvcSize: 'lots' }, message: /targetPvcSize/ },
    { name: 'an uppercase PVC name', spec: { sourcePvc: 'Data' }, message: /sourcePvc/ },
  ];
  for (const c of invalid) {
    it(`reports ${c.name} as InvalidSpec`, async () => {
      const answer = await sync(restore('back', c.spec), [], [HERE]);
      assert.equal(reason(answer), 'InvalidSpec');
      assert.match(answer.status.message ?? '', c.message);
      assert.equal(answer.status.result, undefined, 'not terminal: fixing the spec lets it run');
    });
  }

  it('keeps a started restore\'s children when its spec becomes invalid', async () => {
    const parent = restore('back', { sourcePvc: 'data', targetPvc: 'copy' });
    const first = await sync(parent);
    const req = request({ ...parent, spec: { targetPvc: 'copy' }, status: { ...first.status, startedAt: minutesAgo(1) } }, first.children);
    const answer = await post<Answer>(app, URL, req);
    assert.deepEqual(droppedChildren(req, answer), []);
  });
});
