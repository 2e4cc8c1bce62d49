// Which runs the service touches so Metacontroller syncs them: only unfinished runs whose Job
// finished at least one interval ago, at most once per interval.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NUDGE_ANNOTATION, planNudges } from '../../src/housekeeping/nudge.ts';
import type { Job } from '../../src/kube/types.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import { NOW, backup, finishedJob, minutesAgo } from '../support/fixtures.ts';

const config = { nudgeIntervalMs: 30_000 };

function jobOf(run: PVCBackup, finished?: { type: 'Complete' | 'Failed'; at: Date }): Job {
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `backup-${run.metadata.name}`, namespace: 'apps', uid: `job-${run.metadata.name}`, ownerReferences: [{ apiVersion: run.apiVersion, kind: 'PVCBackup', name: run.metadata.name, uid: run.metadata.uid ?? '', controller: true }] },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [] } } },
  };
  return finished === undefined ? job : finishedJob(job, finished.type, finished.at);
}

const running = backup('a', { pvc: 'data' }, { status: { phase: 'Running', startedAt: minutesAgo(10) } });
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000);

describe('planNudges', () => {
  const cases: { name: string; run: PVCBackup; job: Job; nudged: boolean }[] = [
    { name: 'a Job that completed a minute ago without a result', run: running, job: jobOf(running, { type: 'Complete', at: secondsAgo(60) }), nudged: true },
    { name: 'a Job that failed a minute ago without a result', run: running, job: jobOf(running, { type: 'Failed', at: secondsAgo(60) }), nudged: true },
    { name: 'a Job that completed just now (Metacontroller is on it)', run: running, job: jobOf(running, { type: 'Complete', at: secondsAgo(5) }), nudged: false },
    { name: 'a Job that completed 15 s ago without a result', run: running, job: jobOf(running, { type: 'Complete', at: secondsAgo(15) }), nudged: true },
    { name: 'a running Job', run: running, job: jobOf(running), nudged: false },
    { name: 'a recorded result', run: { ...running, status: { ...running.status, result: 'Succeeded' } }, job: jobOf(running, { type: 'Complete', at: secondsAgo(600) }), nudged: false },
    { name: 'a run nudged 10 s ago', run: { ...running, metadata: { ...running.metadata, annotations: { [NUDGE_ANNOTATION]: secondsAgo(10).toISOString() } } }, job: jobOf(running, { type: 'Complete', at: secondsAgo(600) }), nudged: false },
    { name: 'a run nudged 40 s ago', run: { ...running, metadata: { ...running.metadata, annotations: { [NUDGE_ANNOTATION]: secondsAgo(40).toISOString() } } }, job: jobOf(running, { type: 'Complete', at: secondsAgo(600) }), nudged: true },
    { name: 'a run being deleted', run: { ...running, metadata: { ...running.metadata, deletionTimestamp: minutesAgo(0) } }, job: jobOf(running, { type: 'Complete', at: secondsAgo(600) }), nudged: false },
  ];
  for (const c of cases) {
    it(`${c.nudged ? 'nudges' : 'leaves alone'} ${c.name}`, () => {
      const nudges = planNudges([c.run], [c.job], config, NOW);
      assert.deepEqual(nudges.map((n) => n.name), c.nudged ? ['a'] : []);
    });
  }

  it('ignores Jobs of no known run', () => {
    const other = backup('gone', { pvc: 'data' });
    assert.deepEqual(planNudges([running], [jobOf(other, { type: 'Complete', at: secondsAgo(600) })], config, NOW), []);
  });
});
