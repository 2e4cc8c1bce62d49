// Issue 4's end-to-end scenarios: per-minute schedules from a namespace annotation, an opted-out
// PVC, a new PVC picked up, housekeeping TTL expiry, and no duplicates across restarts.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { waitFor } from '../env/processes.ts';
import { HOUSEKEEPING_TOKEN, startStack, type Stack } from './stack.ts';
import { type Backup, createNamespace, createPvc, keepLogsOfFailures, listBackups, verifyAndStop } from './support.ts';

const NS = 'e2e-schedules';
const pvcOf = (b: Backup) => String(b.spec?.['pvc']);
const slotOf = (b: Backup) => b.metadata.annotations?.['backsnap.skyb.it/scheduled-for'] ?? '';

async function backupsOf(stack: Stack, pvc: string): Promise<Backup[]> {
  return (await listBackups(stack, NS)).filter((b) => pvcOf(b) === pvc);
}

/** Waits until the PVC has `count` automatic backups that all succeeded. */
async function succeeded(stack: Stack, pvc: string, count: number, timeoutMs: number): Promise<Backup[]> {
  return waitFor(`${count} successful backups of ${pvc}`, async () => {
    const backups = await backupsOf(stack, pvc);
    const failed = backups.find((b) => b.status?.result === 'Failed');
    if (failed !== undefined) throw new Error(`${failed.metadata.name} failed: ${failed.status?.message}`);
    return backups.filter((b) => b.status?.result === 'Succeeded').length >= count ? backups : undefined;
  }, { timeoutMs, intervalMs: 1000 });
}

function assertNoDuplicateSlots(backups: Backup[]): void {
  const slots = backups.map(slotOf);
  assert.equal(new Set(slots).size, slots.length, `duplicate slots: ${slots.join(', ')}`);
}

describe('scheduled backups', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      hookEnv: { BACKSNAP_AUTOMATIC_BACKUP_TTL: '30s', BACKSNAP_MAX_RUNNING_BACKUPS: '2' },
      log: (line) => process.stderr.write(`# ${line}\n`),
    });
    await createNamespace(stack, NS, { 'backsnap.skyb.it/schedule': '* * * * *' });
    await createPvc(stack, NS, 'app-data');
    await createPvc(stack, NS, 'scratch', { annotations: { 'backsnap.skyb.it/schedule': '' } });
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(() => verifyAndStop(stack));

  it('backs up each PVC of an annotated namespace once per minute, and skips an opted-out PVC', async () => {
    const backups = await succeeded(stack, 'app-data', 2, 200_000);
    assertNoDuplicateSlots(backups);
    assert.ok(backups.every((b) => b.metadata.ownerReferences?.some((o) => o.kind === 'PersistentVolumeClaim' && o.name === 'app-data')));
    assert.deepEqual(await backupsOf(stack, 'scratch'), []);
  });

  it('picks up a new PVC without restarting anything', async () => {
    await createPvc(stack, NS, 'late-comer');
    await succeeded(stack, 'late-comer', 1, 150_000);
  });

  it('creates no duplicate backup when the hook service or Metacontroller restarts', async () => {
    await stack.restartHooks();
    await stack.restartMetacontroller();
    const before = (await backupsOf(stack, 'app-data')).length;
    const backups = await succeeded(stack, 'app-data', before + 1, 150_000);
    assertNoDuplicateSlots(backups);
  });

  it('housekeeping deletes expired backups but keeps the newest successful one per PVC', async () => {
    // Stop new slots so the set of backups stays put while housekeeping runs.
    await stack.kube.patch(`/api/v1/namespaces/${NS}`, { metadata: { annotations: { 'backsnap.skyb.it/schedule': '' } } });
    // Settled: every backup finished, and the same set twice in a row (a sync that started just
    // before the scheduler saw the change may still add one).
    let previous = '';
    const settled = await waitFor('running backups to finish', async () => {
      const all = await listBackups(stack, NS);
      const names = all.map((b) => b.metadata.name).sort().join(',');
      const stable = names === previous;
      previous = names;
      return stable && all.every((b) => b.status?.result !== undefined) ? all : undefined;
    }, { timeoutMs: 120_000, intervalMs: 2000 });
    const newest = new Map<string, string>();
    for (const b of settled.filter((b) => b.status?.result === 'Succeeded').sort((a, b) => (a.status?.finishedAt ?? '').localeCompare(b.status?.finishedAt ?? ''))) newest.set(pvcOf(b), b.metadata.name);
    // Every backup's 30s TTL has passed once the newest finished more than 30s ago.
    await waitFor('all TTLs to pass', async () => (settled.every((b) => Date.now() - Date.parse(b.status?.finishedAt ?? '') > 31_000) ? true : undefined), { timeoutMs: 60_000, intervalMs: 1000 });
    const reply = await fetch(`${stack.hooks.operationsUrl}/v1/housekeeping`, { method: 'POST', headers: { authorization: `Bearer ${HOUSEKEEPING_TOKEN}` } });
    assert.equal(reply.status, 200);
    const summary = (await reply.json()) as { deleted: { name: string }[] };
    assert.equal(summary.deleted.length, settled.length - newest.size);
    const left = await waitFor('deleted backups to be gone', async () => {
      const remaining = (await listBackups(stack, NS)).filter((b) => b.metadata.deletionTimestamp === undefined);
      return remaining.length === newest.size ? remaining : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(left.map((b) => b.metadata.name).sort(), [...newest.values()].sort());
  });
});
