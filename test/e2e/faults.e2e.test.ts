// Faults on the real stack (real Metacontroller, real restic and S3): the hook service or
// Metacontroller killed in the middle of a run, two backups of one PVC at the same moment, and a
// restore whose Job finishes while the hook service is down. Each ends with exactly one Job per
// run and the right result; the audit (verifyAndStop) checks every run and repository at the end.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startStack, type Stack } from './stack.ts';
import {
  type Backup, type Restore, createBackup, createNamespace, createPvc, createRestore, finished, keepLogsOfFailures, runInVolume, until, verifyAndStop, volumeDir, volumeManifest, waitForJob,
} from './support.ts';

const NS = 'e2e-faults';
const OUTAGE_MS = 60_000;

describe('faults', () => {
  let stack: Stack;
  let source: Record<string, string>;

  before(async () => {
    stack = await startStack({ hookEnv: { BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, log: (line) => process.stderr.write(`# ${line}\n`) });
    await createNamespace(stack, NS);
    await createPvc(stack, NS, 'data');
    // Large enough that restic runs for a few seconds, so kills land while the Job runs.
    await runInVolume(stack, NS, 'data', 'fill', 'head -c 200000000 /dev/urandom > /data/random.bin && echo hello > /data/hello.txt');
    source = volumeManifest(await volumeDir(stack, NS, 'data'));
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  const jobsOf = (run: Backup | Restore) => stack.audit.jobsOf(run.metadata.uid ?? '');

  it('the hook service SIGKILLed while the backup Job runs and back 60 s later: one Job, Succeeded, recorded at once', async () => {
    await createBackup(stack, NS, 'hook-outage', { pvc: 'data' });
    await waitForJob(stack, NS, 'backup-hook-outage');
    const killed = Date.now();
    await stack.killHooks();
    const job = await waitForJob(stack, NS, 'backup-hook-outage', true);
    await until(killed, OUTAGE_MS);
    await stack.startHooks();
    const back = Date.now();
    const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'hook-outage', 300_000);
    const recordedAfter = Date.now() - back;
    process.stderr.write(`# result recorded ${recordedAfter} ms after the hook service came back\n`);
    assert.equal(backup.status?.result, 'Succeeded', backup.status?.message);
    assert.equal(jobsOf(backup).length, 1);
    assert.equal(backup.status?.finishedAt, job.status?.completionTime, "finishedAt is the Job's completion, not the late sync's clock");
    assert.ok(recordedAfter < 30_000, `recorded ${recordedAfter} ms after the restart (the nudge at start)`);
  });

  it('Metacontroller SIGKILLed while the backup runs and restarted: one Job, Succeeded', async () => {
    await createBackup(stack, NS, 'metacontroller-restart', { pvc: 'data' });
    await waitForJob(stack, NS, 'backup-metacontroller-restart');
    await stack.killMetacontroller();
    await waitForJob(stack, NS, 'backup-metacontroller-restart', true);
    await stack.startMetacontroller();
    const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'metacontroller-restart', 300_000);
    assert.equal(backup.status?.result, 'Succeeded', backup.status?.message);
    assert.equal(jobsOf(backup).length, 1);
  });

  it('two PVCBackups of the same PVC created at the same moment: both succeed, one after the other, one Job each', async () => {
    await Promise.all(['twin-a', 'twin-b'].map((name) => createBackup(stack, NS, name, { pvc: 'data' })));
    const runs = await Promise.all(['twin-a', 'twin-b'].map((name) => finished<Backup>(stack, NS, 'pvcbackups', name, 300_000)));
    for (const run of runs) {
      assert.equal(run.status?.result, 'Succeeded', run.status?.message);
      assert.equal(jobsOf(run).length, 1);
    }
    const [first, second] = runs.map((r) => [Date.parse(r.status?.startedAt ?? ''), Date.parse(r.status?.finishedAt ?? '')] as const).sort((a, b) => a[0] - b[0]);
    assert.ok(first !== undefined && second !== undefined && second[0] >= first[1], `backups of the same PVC overlap: ${JSON.stringify(runs.map((r) => r.status))}`);
  });

  it('a restore whose Job finishes while the hook service is down: one Job, Succeeded, data intact', async () => {
    await createRestore(stack, NS, 'restore-outage', { sourcePvc: 'data', targetPvc: 'data-copy' });
    await waitForJob(stack, NS, 'restore-restore-outage');
    const killed = Date.now();
    await stack.killHooks();
    await waitForJob(stack, NS, 'restore-restore-outage', true);
    await until(killed, OUTAGE_MS / 3);
    await stack.startHooks();
    const restore = await finished<Restore>(stack, NS, 'pvcrestores', 'restore-outage', 300_000);
    assert.equal(restore.status?.result, 'Succeeded', restore.status?.message);
    assert.equal(jobsOf(restore).length, 1);
    assert.deepEqual(volumeManifest(await volumeDir(stack, NS, 'data-copy')), source);
  });
});
