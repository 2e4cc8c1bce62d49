// Scenarios 1, 2, 5 and 6: a backup and restore round trip on the local control plane with real
// restic and S3, an incremental second backup, refused restores, and a restored PVC that outlives
// its PVCRestore under the real garbage collector.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from '../env/processes.ts';
import { startStack, type Stack } from './stack.ts';
import {
  type Backup, type Restore, BACKSNAP, createBackup, createNamespace, createPvc, createRestore, finished, getBackup, keepLogsOfFailures, listNames, runInVolume, verifyAndStop, volumeDir, volumeManifest,
} from './support.ts';

const NS = 'e2e-roundtrip';
const OTHER = 'e2e-elsewhere';
const FILL = `set -e
mkdir -p /data/nested/deeper /data/empty-dir
printf 'hello backsnap\\n' > /data/hello.txt
printf 'private\\n' > /data/nested/private.txt && chmod 600 /data/nested/private.txt
printf '#!/bin/sh\\necho run\\n' > /data/nested/deeper/run.sh && chmod 755 /data/nested/deeper/run.sh
chown 1234:5678 /data/nested/deeper/run.sh && chmod 2775 /data/nested/deeper
ln -s nested/deeper/run.sh /data/link
head -c 104857600 /dev/urandom > /data/random.bin`;

describe('backup and restore round trip', () => {
  let stack: Stack;
  let source: Record<string, string>;

  before(async () => {
    stack = await startStack({ log: (line) => process.stderr.write(`# ${line}\n`) });
    await createNamespace(stack, NS);
    await createNamespace(stack, OTHER);
    await createPvc(stack, NS, 'data', { size: '2Gi' });
    await runInVolume(stack, NS, 'data', 'fill', FILL);
    source = volumeManifest(await volumeDir(stack, NS, 'data'));
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  it('backs up a PVC: Succeeded with snapshot id and statistics, children gone', async () => {
    await createBackup(stack, NS, 'first', { pvc: 'data', ttl: '1h' });
    const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'first');
    assert.equal(backup.status?.result, 'Succeeded', backup.status?.message);
    assert.equal(backup.status?.phase, 'Succeeded');
    assert.match(backup.status?.snapshotId ?? '', /^[0-9a-f]{64}$/);
    assert.ok((backup.status?.statistics?.totalBytesProcessed ?? 0) >= 104857600, JSON.stringify(backup.status?.statistics));
    assert.equal(backup.status?.statistics?.totalFilesProcessed, 4);
    assert.match(backup.status?.duration ?? '', /^\d+(m\d+)?s$/);
    for (const path of [`/apis/batch/v1/namespaces/${NS}/jobs`, `/api/v1/namespaces/${NS}/secrets`, `/apis/snapshot.storage.k8s.io/v1/namespaces/${NS}/volumesnapshots`]) {
      await waitFor(`children of the backup gone from ${path}`, async () => ((await listNames(stack, path)).includes('backup-first') ? undefined : true));
    }
    await waitFor('the temporary PVC gone', async () => ((await listNames(stack, `/api/v1/namespaces/${NS}/persistentvolumeclaims`)).includes('backup-first') ? undefined : true));
  });

  it('retires a finished backup: labelled retired, and Metacontroller syncs it no more', async () => {
    const retired = await waitFor('backup first labelled retired', async () => {
      const backup = await getBackup(stack, NS, 'first');
      return backup?.metadata.labels?.['backsnap.skyb.it/retired'] === 'true' ? backup : undefined;
    }, { timeoutMs: 180_000, intervalMs: 1000 });
    assert.equal(retired.status?.conditions?.find((c) => c.type === 'Retired')?.status, 'True');
    // A witness that is still selected: a backup of a missing PVC waits (Pending), synced on each change.
    await createBackup(stack, NS, 'witness', { pvc: 'absent' });
    const syncsOf = (name: string) => readFileSync(stack.hooks.logPath, 'utf8').split('\n').filter((l) => l.includes('"hook":"/hooks/pvcbackup/sync"') && l.includes(`"object":"${NS}/${name}"`)).length;
    const retiredSyncs = syncsOf('first');
    // Each round: change both; the witness's sync shows Metacontroller has handled both events.
    for (const round of ['1', '2']) {
      const witnessSyncs = syncsOf('witness');
      for (const name of ['first', 'witness']) await stack.kube.patch(`${BACKSNAP}/namespaces/${NS}/pvcbackups/${name}`, { metadata: { annotations: { 'e2e.backsnap.skyb.it/poke': round } } });
      await waitFor(`the witness synced after change ${round}`, async () => (syncsOf('witness') > witnessSyncs ? true : undefined));
    }
    assert.equal(syncsOf('first'), retiredSyncs, 'the retired backup was not synced on a change');
    await stack.kube.delete(`${BACKSNAP}/namespaces/${NS}/pvcbackups/witness`);
  });

  it('makes the second backup of the same PVC incremental', async () => {
    await createBackup(stack, NS, 'second', { pvc: 'data' });
    const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'second');
    assert.equal(backup.status?.result, 'Succeeded', backup.status?.message);
    assert.ok((backup.status?.statistics?.dataAddedBytes ?? Infinity) < 1024 * 1024, `added ${backup.status?.statistics?.dataAddedBytes} bytes`);
    assert.equal(backup.status?.statistics?.filesUnmodified, 4);
  });

  it('shows the PVC\'s last successful backup in /metrics', async () => {
    const text = await (await fetch(`${stack.hooks.metricsUrl}/metrics`)).text();
    const match = new RegExp(`backsnap_backup_last_success_timestamp_seconds\\{namespace="${NS}",pvc="data"\\} (\\d+)`).exec(text);
    assert.ok(match, 'the metric for the PVC is present');
    assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 600);
  });

  it('restores the backup into a new PVC byte for byte', async () => {
    await createRestore(stack, NS, 'restore', { sourcePvc: 'data', targetPvc: 'data-restored' });
    const restore = await finished<Restore>(stack, NS, 'pvcrestores', 'restore');
    assert.equal(restore.status?.result, 'Succeeded', restore.status?.message);
    assert.match(restore.status?.snapshotId ?? '', /^[0-9a-f]{64}$/);
    const restored = volumeManifest(await volumeDir(stack, NS, 'data-restored'));
    assert.deepEqual(restored, source);
  });

  it('keeps the restored PVC when its PVCRestore is deleted (garbage collector)', async () => {
    const pvcPath = `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-restored`;
    await stack.kube.delete(`${BACKSNAP}/namespaces/${NS}/pvcrestores/restore`);
    await waitFor('the PVCRestore to be gone', async () => ((await stack.kube.get(`${BACKSNAP}/namespaces/${NS}/pvcrestores/restore`)) === undefined ? true : undefined));
    // The garbage collector has looked at the PVC once it dropped the dangling owner reference.
    const pvc = await waitFor('the GC to release the PVC from its PVCRestore', async () => {
      const live = await stack.kube.get<{ metadata: { ownerReferences?: { kind: string }[]; deletionTimestamp?: string } }>(pvcPath);
      if (live === undefined) throw new Error('the restored PVC was deleted');
      return live.metadata.ownerReferences?.some((o) => o.kind === 'PVCRestore') === true ? undefined : live;
    }, { timeoutMs: 60_000 });
    assert.equal(pvc.metadata.deletionTimestamp, undefined);
    assert.deepEqual(pvc.metadata.ownerReferences?.map((o) => o.kind), ['Namespace']);
  });

  it('refuses to restore onto an existing PVC', async () => {
    await createRestore(stack, NS, 'onto-existing', { sourcePvc: 'data' });
    const restore = await finished<Restore>(stack, NS, 'pvcrestores', 'onto-existing', 60_000);
    assert.equal(restore.status?.result, 'Failed');
    assert.equal(restore.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'TargetPVCExists');
  });

  it('refuses a cross-namespace restore until the source namespace allows it', async () => {
    await createRestore(stack, OTHER, 'denied', { sourcePvc: 'data', sourceNamespace: NS });
    const denied = await finished<Restore>(stack, OTHER, 'pvcrestores', 'denied', 60_000);
    assert.equal(denied.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'CrossNamespaceRestoreDenied');
    await stack.kube.patch(`/api/v1/namespaces/${NS}`, { metadata: { annotations: { 'backsnap.skyb.it/allow-restore-to': OTHER } } });
    await createRestore(stack, OTHER, 'allowed', { sourcePvc: 'data', sourceNamespace: NS });
    const allowed = await finished<Restore>(stack, OTHER, 'pvcrestores', 'allowed');
    assert.equal(allowed.status?.result, 'Succeeded', allowed.status?.message);
    assert.deepEqual(volumeManifest(await volumeDir(stack, OTHER, 'data')), source);
  });
});
