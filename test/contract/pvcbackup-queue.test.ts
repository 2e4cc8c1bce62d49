// The concurrency gate as seen through the sync hook: the cluster-wide limit and one backup per
// PVC at a time, decided from the other PVCBackups' persisted status only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import { BACKUP_CHILD_GROUPS, backup, minutesAgo, pvc, syncRequest, testApp, testConfig } from '../support/fixtures.ts';
import { post, type SyncAnswer } from '../support/hooks.ts';

type Answer = SyncAnswer<PVCBackupStatus>;
const RUNNING: PVCBackupStatus = { phase: 'Running', startedAt: minutesAgo(3) };
const DONE: PVCBackupStatus = { phase: 'Succeeded', startedAt: minutesAgo(9), finishedAt: minutesAgo(8), result: 'Succeeded' };

function created(b: PVCBackup, minutes: number): PVCBackup {
  return { ...b, metadata: { ...b.metadata, creationTimestamp: minutesAgo(minutes) } };
}

async function decide(me: PVCBackup, others: PVCBackup[], env: Record<string, string> = {}): Promise<Answer> {
  const related = [pvc('data'), pvc('logs'), ...others];
  return post<Answer>(testApp(testConfig(env)), '/hooks/pvcbackup/sync', syncRequest(me, [], related, BACKUP_CHILD_GROUPS));
}

const reason = (a: Answer) => a.status.conditions?.find((c) => c.type === 'Ready')?.reason;

describe('PVCBackup concurrency gate', () => {
  const cases: { name: string; others: PVCBackup[]; env?: Record<string, string>; starts: boolean; reason?: string }[] = [
    { name: 'starts when nothing else runs', others: [], starts: true },
    { name: 'finished backups do not count', others: [backup('old', { pvc: 'logs' }, { status: DONE })], starts: true },
    { name: 'waits for the cluster-wide limit (default 1)', others: [backup('other', { pvc: 'logs' }, { status: RUNNING }, 'team-b')], starts: false, reason: 'WaitingForSlot' },
    { name: 'starts under a higher limit', others: [backup('other', { pvc: 'logs' }, { status: RUNNING }, 'team-b')], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, starts: true },
    { name: 'never two of the same PVC, even without a limit', others: [backup('earlier', { pvc: 'data' }, { status: RUNNING })], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '0' }, starts: false, reason: 'WaitingForSameVolume' },
    { name: 'a same-named PVC in another namespace is another volume', others: [backup('earlier', { pvc: 'data' }, { status: RUNNING }, 'team-b')], env: { BACKSNAP_MAX_RUNNING_BACKUPS: '0' }, starts: true },
    { name: 'an older waiting backup goes first', others: [created(backup('older', { pvc: 'logs' }), 5)], starts: false, reason: 'WaitingForSlot' },
    { name: 'a younger waiting backup does not block', others: [created(backup('younger', { pvc: 'logs' }), 0)], starts: true },
    { name: 'a waiting backup in an excluded namespace does not block', others: [created(backup('older', { pvc: 'logs' }, {}, 'skip-me'), 5)], env: { BACKSNAP_EXCLUDE_NAMESPACES: 'skip-me' }, starts: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const answer = await decide(created(backup('me', { pvc: 'data' }), 1), c.others, c.env);
      assert.equal(answer.status.phase, c.starts ? 'Running' : 'Pending');
      assert.equal(answer.children.length, c.starts ? 2 : 0);
      if (c.reason !== undefined) assert.equal(reason(answer), c.reason);
      if (!c.starts) assert.ok((answer.resyncAfterSeconds ?? 0) > 0, 'a waiting backup is looked at again');
    });
  }

  it('of two backups synced at the same moment, exactly one takes the last slot', async () => {
    const a = created(backup('a', { pvc: 'data' }), 2);
    const b = created(backup('b', { pvc: 'logs' }), 2);
    const [answerA, answerB] = await Promise.all([decide(a, [b]), decide(b, [a])]);
    assert.deepEqual([answerA.status.phase, answerB.status.phase], ['Running', 'Pending'], 'ties are broken by namespace and name');
  });
});
