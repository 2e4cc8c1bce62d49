// Retention and repository maintenance on the real stack: forget with a namespace's policy after
// every backup, a prune on its own cadence that makes the repository smaller, an invalid policy
// that keeps everything, a check that finds a damaged pack, a prune that is not held back by the
// lock of a killed backup Pod, and restores as of a time (also of a snapshot retention removed).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from '../env/processes.ts';
import { restic } from './audit.ts';
import { startStack, type Stack } from './stack.ts';
import {
  type Backup, type Restore, createBackup, createNamespace, createPvc, createRestore, finished, keepLogsOfFailures, runInVolume, until, verifyAndStop, volumeDir, volumeManifest,
} from './support.ts';

const NS = 'e2e-retention';
const CADENCE_MS = 20_000;
const conditionOf = (run: Backup | Restore, type: string) => run.status?.conditions?.find((c) => c.type === type);

describe('retention and maintenance', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      hookEnv: { BACKSNAP_PRUNE_INTERVAL: `${CADENCE_MS / 1000}s`, BACKSNAP_CHECK_INTERVAL: `${CADENCE_MS / 1000}s`, BACKSNAP_CHECK_READ_DATA_SUBSET: '100%', BACKSNAP_MAX_RUNNING_BACKUPS: '2' },
      log: (line) => process.stderr.write(`# ${line}\n`),
    });
    await createNamespace(stack, NS, { 'backsnap.skyb.it/retention': 'last=2' });
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  const repositorySize = async (pvc: string) => (await stack.minio.objects(`${NS}/${pvc}/`)).reduce((n, o) => n + o.size, 0);
  const snapshots = async (pvc: string) => (JSON.parse(await restic(stack.repository(NS, pvc), ['snapshots', '--json', '--no-lock'])) as { id: string }[]).length;
  const backup = async (name: string, pvc: string) => {
    await createBackup(stack, NS, name, { pvc });
    return finished<Backup>(stack, NS, 'pvcbackups', name);
  };

  it("keeps what the namespace's policy says, prunes on its own cadence, and restores as of a time", async () => {
    await createPvc(stack, NS, 'data');
    await runInVolume(stack, NS, 'data', 'fill-a', 'head -c 3000000 /dev/urandom > /data/a.bin');
    const first = await backup('keep-1', 'data');
    assert.equal(first.status?.maintenance?.prune?.result, 'Succeeded', 'a new repository is pruned once (no record yet)');
    // Only the first backup holds a.bin: once it is forgotten, a prune can free that data.
    await runInVolume(stack, NS, 'data', 'fill-b', 'rm /data/a.bin && head -c 3000000 /dev/urandom > /data/b.bin');
    const second = await backup('keep-2', 'data');
    assert.equal(second.status?.maintenance?.prune, undefined, 'not pruned again before its cadence');
    assert.equal(second.status?.retention?.removed, 0);
    const atSecond = volumeManifest(await volumeDir(stack, NS, 'data'));
    const sizeWithBoth = await repositorySize('data');

    await runInVolume(stack, NS, 'data', 'add-c', 'echo third > /data/c.txt');
    await until(Date.parse(first.status?.finishedAt ?? ''), CADENCE_MS + 1000);
    const third = await backup('keep-3', 'data');
    assert.equal(third.status?.result, 'Succeeded', third.status?.message);
    assert.deepEqual([third.status?.retention?.policy, third.status?.retention?.source, third.status?.retention?.kept, third.status?.retention?.removed], ['last=2', 'namespace', 2, 1]);
    assert.ok(third.status?.retention?.oldestKept?.startsWith(second.status?.startedAt?.slice(0, 15) ?? '-'), `oldest kept ${third.status?.retention?.oldestKept} is the second backup's`);
    assert.equal(third.status?.maintenance?.prune?.result, 'Succeeded');
    assert.equal(await snapshots('data'), 2);
    const sizeAfterPrune = await repositorySize('data');
    assert.ok(sizeAfterPrune < sizeWithBoth - 2_000_000, `the prune freed the forgotten data: ${sizeWithBoth} → ${sizeAfterPrune} bytes`);
    await waitFor('the PVC to remember the prune', async () => {
      const pvc = await stack.kube.get<{ metadata: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${NS}/persistentvolumeclaims/data`);
      return pvc?.metadata.annotations?.['backsnap.skyb.it/last-prune']?.endsWith('Succeeded') === true ? true : undefined;
    });

    await createRestore(stack, NS, 'as-of', { sourcePvc: 'data', targetPvc: 'data-as-of', restoreAsOf: second.status?.finishedAt });
    const asOf = await finished<Restore>(stack, NS, 'pvcrestores', 'as-of');
    assert.equal(asOf.status?.result, 'Succeeded', asOf.status?.message);
    assert.equal(asOf.status?.snapshotId, second.status?.snapshotId);
    assert.deepEqual(volumeManifest(await volumeDir(stack, NS, 'data-as-of')), atSecond, 'the older backup, byte for byte');

    await createRestore(stack, NS, 'forgotten', { sourcePvc: 'data', targetPvc: 'data-forgotten', sourceSnapshot: first.status?.snapshotId });
    const forgotten = await finished<Restore>(stack, NS, 'pvcrestores', 'forgotten');
    assert.equal(conditionOf(forgotten, 'Failed')?.reason, 'SnapshotNotFound');
    assert.match(forgotten.status?.message ?? '', /retention policy/);
  });

  it('reports an invalid policy on the PVC and the backup, and forgets nothing', async () => {
    await createPvc(stack, NS, 'odd', { annotations: { 'backsnap.skyb.it/retention': 'last=zero' } });
    await runInVolume(stack, NS, 'odd', 'fill-odd', 'echo odd > /data/file');
    for (const name of ['odd-1', 'odd-2', 'odd-3']) {
      const run = await backup(name, 'odd');
      assert.equal(run.status?.result, 'Succeeded', 'the backup itself is made');
      assert.equal(conditionOf(run, 'RetentionApplied')?.reason, 'InvalidRetentionPolicy');
      assert.match(run.status?.retention?.error ?? '', /last=zero.*whole number/);
    }
    assert.equal(await snapshots('odd'), 3, 'an invalid policy never means "keep nothing"');
    const reason = await waitFor('the PVC to say why', async () => {
      const pvc = await stack.kube.get<{ metadata: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${NS}/persistentvolumeclaims/odd`);
      return pvc?.metadata.annotations?.['backsnap.skyb.it/retention-error'];
    });
    assert.match(reason, /whole number of at least 1/);
  });

  it('raises RepositoryDamaged and the metric when a check finds a damaged pack, and touches nothing', async () => {
    await createPvc(stack, NS, 'fragile');
    await runInVolume(stack, NS, 'fragile', 'fill-fragile', 'head -c 2000000 /dev/urandom > /data/blob.bin');
    const healthy = await backup('fragile-1', 'fragile');
    assert.equal(conditionOf(healthy, 'RepositoryHealthy')?.status, 'True');
    const packs = (await stack.minio.objects(`${NS}/fragile/data/`)).sort((a, b) => b.size - a.size);
    const biggest = packs[0];
    assert.ok(biggest !== undefined && biggest.size > 1_000_000, 'a data pack');
    await stack.minio.put(biggest.key, randomBytes(biggest.size));
    await until(Date.parse(healthy.status?.finishedAt ?? ''), CADENCE_MS + 1000);
    const damaged = await backup('fragile-2', 'fragile');
    assert.equal(damaged.status?.result, 'Succeeded', 'the new snapshot is made; the damage is reported');
    assert.equal(conditionOf(damaged, 'RepositoryHealthy')?.status, 'False');
    assert.equal(conditionOf(damaged, 'RepositoryHealthy')?.reason, 'RepositoryDamaged');
    assert.equal(damaged.status?.maintenance?.check?.result, 'Failed');
    assert.ok((damaged.status?.maintenance?.check?.message ?? '').length > 0, "restic's words");
    assert.equal(damaged.status?.retention?.removed, undefined, 'forget skipped');
    assert.equal(damaged.status?.maintenance?.prune, undefined, 'prune skipped');
    const metrics = await (await fetch(`${stack.hooks.metricsUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`backsnap_repository_check_failed\\{namespace="${NS}",pvc="fragile"\\} 1\\b`));
  });

  it('prunes after a backup Pod was killed holding its lock, without waiting 30 minutes', async () => {
    await createPvc(stack, NS, 'crashy');
    await runInVolume(stack, NS, 'crashy', 'fill-crashy', 'head -c 100000000 /dev/urandom > /data/big.bin');
    await createBackup(stack, NS, 'crashy-1', { pvc: 'crashy' });
    const repository = stack.repository(NS, 'crashy');
    await waitFor('the backup to hold a lock', async () => ((await restic(repository, ['list', 'locks', '--no-lock']).catch(() => '')).trim() === '' ? undefined : true), { timeoutMs: 120_000, intervalMs: 100 });
    assert.equal(stack.agent.crashPods(NS, 'backup-crashy-1'), 1);
    const crashed = await finished<Backup>(stack, NS, 'pvcbackups', 'crashy-1');
    assert.equal(crashed.status?.result, 'Failed');
    assert.notEqual((await restic(repository, ['list', 'locks', '--no-lock'])).trim(), '', 'the killed Pod left its lock');
    const next = await backup('crashy-2', 'crashy');
    assert.equal(next.status?.result, 'Succeeded', next.status?.message);
    assert.equal(next.status?.maintenance?.prune?.result, 'Succeeded', next.status?.maintenance?.prune?.message);
    assert.equal((await restic(repository, ['list', 'locks', '--no-lock'])).trim(), '');
  });

  it("forgets a repository written by backsnap's layout with the same grouping, keeping its old snapshots within the policy", async () => {
    await createPvc(stack, NS, 'legacy', { annotations: { 'backsnap.skyb.it/retention': 'last=1,monthly=3' } });
    await runInVolume(stack, NS, 'legacy', 'fill-legacy', 'echo from-backsnap > /data/file');
    // As the Go backsnap backed up: --host <namespace>, the volume at /data, no tags; at older times.
    const repository = stack.repository(NS, 'legacy');
    await stack.kube.create(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy-restic' }, stringData: { ...repository.env, RESTIC_REPOSITORY: repository.url, RESTIC_CACHE_DIR: '/tmp/cache' } });
    const times = ['2026-09-15 02:00:00', '2026-10-15 02:00:00', '2026-10-20 02:00:00'];
    const script = `restic init && ${times.map((t) => `restic backup --host ${NS} --time '${t}' /data`).join(' && ')}`;
    await stack.kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'as-backsnap' },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'restic/restic', command: ['/bin/sh', '-c', script], envFrom: [{ secretRef: { name: 'legacy-restic' } }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'legacy' } }] } } },
    });
    await waitFor('the backsnap-style backups', async () => {
      const job = await stack.kube.get<{ status?: { succeeded?: number; failed?: number } }>(`/apis/batch/v1/namespaces/${NS}/jobs/as-backsnap`);
      if ((job?.status?.failed ?? 0) > 0) throw new Error(stack.agent.podLog(NS, 'as-backsnap'));
      return (job?.status?.succeeded ?? 0) > 0 ? true : undefined;
    }, { timeoutMs: 120_000 });
    stack.audit.expectForeignSnapshots(NS, 'legacy', times.length);
    const run = await backup('legacy-1', 'legacy');
    assert.equal(run.status?.result, 'Succeeded', run.status?.message);
    // last=1 keeps the new one; monthly=3 the newest of December (the new one), October (the 20th) and September.
    assert.deepEqual([run.status?.retention?.kept, run.status?.retention?.removed], [3, 1]);
    const left = (JSON.parse(await restic(repository, ['snapshots', '--json', '--no-lock'])) as { time: string; tags?: string[] }[]).map((s) => s.time.slice(0, 10)).sort();
    assert.deepEqual(left.slice(0, 2), ['2026-09-15', '2026-10-20']);
  });
});
