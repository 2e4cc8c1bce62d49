// What only the real CSI driver and snapshot controller show (test/env/csi.ts): a snapshot class
// that retains its contents, a temporary volume sized and classed from the real restoreSize, a
// restore into another StorageClass of the driver, and a source PVC deleted while its snapshot is
// taken. (A VolumeSnapshotClass that does not exist is in failures.e2e.test.ts.)
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { applyClass, csiSnapshotClass, csiStorageClass, CSI_DRIVER, SNAPSHOT_CLASSES, STORAGE_CLASSES } from '../env/csi.ts';
import { waitFor } from '../env/processes.ts';
import { startStack, type Stack } from './stack.ts';
import {
  type Backup, type Restore, createBackup, createNamespace, createPvc, createRestore, finished, keepLogsOfFailures, runInVolume, verifyAndStop, volumeDir, volumeManifest,
} from './support.ts';

const NS = 'e2e-csi';
const SNAPSHOTS = '/apis/snapshot.storage.k8s.io/v1';
const OTHER_CLASS = 'backsnap-test-b';
const RETAIN_CLASS = 'backsnap-retain';

interface Claim {
  metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] };
  spec: { storageClassName?: string; volumeName?: string; resources: { requests: { storage: string } }; dataSource?: { kind: string; name: string } };
  status?: { phase?: string };
}
interface Volume {
  spec: { csi?: { driver: string } };
}
interface Content {
  metadata: { name: string };
  spec: { deletionPolicy: string; volumeSnapshotRef: { name?: string; namespace?: string } };
  status?: { readyToUse?: boolean };
}

describe('real CSI snapshots and provisioning', () => {
  let stack: Stack;
  const claim = (name: string) => stack.kube.get<Claim>(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`);
  const contentsOf = async (snapshot: string) =>
    (await stack.kube.list<Content>(`${SNAPSHOTS}/volumesnapshotcontents`)).items.filter((c) => c.spec.volumeSnapshotRef.namespace === NS && c.spec.volumeSnapshotRef.name === snapshot);

  before(async () => {
    stack = await startStack({ log: (line) => process.stderr.write(`# ${line}\n`) });
    await applyClass(stack.kube, STORAGE_CLASSES, csiStorageClass(OTHER_CLASS, false));
    await applyClass(stack.kube, SNAPSHOT_CLASSES, csiSnapshotClass(RETAIN_CLASS, 'Retain', false));
    await createNamespace(stack, NS);
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  it('sizes and classes the temporary PVC from the real snapshot, and restores into another StorageClass of the driver', async () => {
    await createPvc(stack, NS, 'sized', { size: '3Gi', storageClass: OTHER_CLASS });
    await runInVolume(stack, NS, 'sized', 'fill-sized', 'head -c 3000000 /dev/urandom > /data/random.bin && echo sized > /data/name');
    await createBackup(stack, NS, 'sized', { pvc: 'sized' });
    // The temporary PVC lives while the Job runs: seen once, it must ask for what the snapshot holds.
    const temporary = await waitFor('the temporary PVC to be bound', async () => {
      const pvc = await claim('backup-sized');
      return pvc?.status?.phase === 'Bound' ? pvc : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const snapshot = await stack.kube.get<{ status?: { restoreSize?: string } }>(`${SNAPSHOTS}/namespaces/${NS}/volumesnapshots/backup-sized`);
    assert.equal(snapshot?.status?.restoreSize, '3Gi', "the driver's restoreSize is the source volume's capacity");
    assert.equal(temporary.spec.resources.requests.storage, '3Gi');
    assert.equal(temporary.spec.storageClassName, OTHER_CLASS, "the source PVC's class");
    assert.deepEqual(temporary.spec.dataSource && { kind: temporary.spec.dataSource.kind, name: temporary.spec.dataSource.name }, { kind: 'VolumeSnapshot', name: 'backup-sized' });
    const temporaryVolume = await stack.kube.get<Volume>(`/api/v1/persistentvolumes/${temporary.spec.volumeName ?? ''}`);
    assert.equal(temporaryVolume?.spec.csi?.driver, CSI_DRIVER, 'provisioned by the driver from the snapshot');
    assert.equal((await finished<Backup>(stack, NS, 'pvcbackups', 'sized')).status?.result, 'Succeeded');

    await stack.restartHooks({ BACKSNAP_STORAGE_CLASS: OTHER_CLASS });
    try {
      await createRestore(stack, NS, 'sized-copy', { sourcePvc: 'sized', targetPvc: 'sized-copy' });
      const restore = await finished<Restore>(stack, NS, 'pvcrestores', 'sized-copy');
      assert.equal(restore.status?.result, 'Succeeded', restore.status?.message);
    } finally {
      await stack.restartHooks({ BACKSNAP_STORAGE_CLASS: '' });
    }
    const target = await claim('sized-copy');
    assert.equal(target?.spec.storageClassName, OTHER_CLASS);
    assert.equal(target?.status?.phase, 'Bound');
    assert.equal(target?.spec.resources.requests.storage, '3Gi', "the source PVC's size");
    const targetVolume = await stack.kube.get<Volume>(`/api/v1/persistentvolumes/${target?.spec.volumeName ?? ''}`);
    assert.equal(targetVolume?.spec.csi?.driver, CSI_DRIVER);
    assert.deepEqual(volumeManifest(await volumeDir(stack, NS, 'sized-copy')), volumeManifest(await volumeDir(stack, NS, 'sized')));
  });

  it('leaves the VolumeSnapshotContent of a Retain class behind, bound to nothing, as documented', async () => {
    await createPvc(stack, NS, 'kept');
    await runInVolume(stack, NS, 'kept', 'fill-kept', 'echo kept > /data/name');
    await stack.restartHooks({ BACKSNAP_SNAPSHOT_CLASS: RETAIN_CLASS });
    let backup: Backup;
    try {
      await createBackup(stack, NS, 'kept', { pvc: 'kept' });
      backup = await finished<Backup>(stack, NS, 'pvcbackups', 'kept');
    } finally {
      await stack.restartHooks({ BACKSNAP_SNAPSHOT_CLASS: '' });
    }
    assert.equal(backup.status?.result, 'Succeeded', backup.status?.message);
    await waitFor('the VolumeSnapshot to be deleted', async () => ((await stack.kube.get(`${SNAPSHOTS}/namespaces/${NS}/volumesnapshots/backup-kept`)) === undefined ? true : undefined), { timeoutMs: 60_000 });
    const [content, ...more] = await contentsOf('backup-kept');
    assert.equal(more.length, 0);
    assert.equal(content?.spec.deletionPolicy, 'Retain');
    assert.equal(content?.status?.readyToUse, true, 'the snapshot stays in the storage system');
    // The cluster admin's to delete (docs/troubleshooting.md); deleted here so nothing outlives the test.
    await stack.kube.delete(`${SNAPSHOTS}/volumesnapshotcontents/${content?.metadata.name ?? ''}`);
  });

  it('ends a backup whose source PVC is deleted while its snapshot is taken, and leaks nothing', async () => {
    await createPvc(stack, NS, 'doomed');
    await runInVolume(stack, NS, 'doomed', 'fill-doomed', 'head -c 50000000 /dev/urandom > /data/random.bin');
    // Any scheduled Pod that names the claim, even a finished one, keeps it (pvc-protection):
    // the fill Job's Pod must be gone before the claim can be.
    await stack.kube.delete(`/apis/batch/v1/namespaces/${NS}/jobs/fill-doomed`, { propagationPolicy: 'Foreground' });
    await waitFor('the fill Pod to be gone', async () => ((await stack.kube.list(`/api/v1/namespaces/${NS}/pods?labelSelector=job-name%3Dfill-doomed`)).items.length === 0 ? true : undefined), { timeoutMs: 60_000 });
    await createBackup(stack, NS, 'doomed', { pvc: 'doomed' });
    await waitFor('the VolumeSnapshot of the run', () => stack.kube.get(`${SNAPSHOTS}/namespaces/${NS}/volumesnapshots/backup-doomed`), { timeoutMs: 60_000, intervalMs: 50 });
    await stack.kube.delete(`/api/v1/namespaces/${NS}/persistentvolumeclaims/doomed`);
    const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'doomed');
    // Either the snapshot controller protected the claim until its snapshot was cut (the backup
    // then reads the snapshot), or the claim went first and the snapshot could not be taken: a
    // Failed run that says why. Never a hang.
    const failure = backup.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    process.stderr.write(`# source deleted during the snapshot: ${backup.status?.result} ${failure?.reason ?? ''} ${backup.status?.message ?? ''}\n`);
    if (backup.status?.result === 'Failed') assert.match(`${failure?.reason} ${backup.status.message}`, /SourcePVC|SnapshotTimeout.*doomed/);
    else assert.equal(backup.status?.result, 'Succeeded');
    await waitFor('the source PVC to be gone', async () => ((await claim('doomed')) === undefined ? true : undefined), { timeoutMs: 60_000 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; its finalizers: ${JSON.stringify((await claim('doomed'))?.metadata.finalizers)}`);
    });
    await waitFor("the run's snapshot and its content to be gone", async () => {
      const snapshot = await stack.kube.get(`${SNAPSHOTS}/namespaces/${NS}/volumesnapshots/backup-doomed`);
      return snapshot === undefined && (await contentsOf('backup-doomed')).length === 0 ? true : undefined;
    }, { timeoutMs: 60_000 });
  });
});
