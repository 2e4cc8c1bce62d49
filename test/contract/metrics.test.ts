// GET /metrics: per-PVC backup state from the cluster and hook metrics by route.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionTickets, BACKUP_CHILD_GROUPS, HOOK_AUTH, backup, namespace, pvc, syncRequest, testConfig, testServers } from '../support/fixtures.ts';
import { memoryCluster } from '../support/memory-cluster.ts';

const NOW = new Date('2026-11-29T12:00:00Z');

function servers() {
  const created = { ...pvc('data'), metadata: { ...pvc('data').metadata, creationTimestamp: '2026-11-01T00:00:00Z' } };
  const stale = { ...pvc('old'), metadata: { ...pvc('old').metadata, creationTimestamp: '2026-11-01T00:00:00Z' } };
  const cluster = memoryCluster({
    backups: [
      backup('data-1', { pvc: 'data' }, { status: { result: 'Succeeded', startedAt: '2026-11-29T01:59:00Z', finishedAt: '2026-11-29T02:00:40Z', duration: '1m40s' } }),
      backup('data-2', { pvc: 'data' }, { status: { startedAt: '2026-11-29T11:50:00Z' } }),
    ],
    restores: [],
    pvcs: [created, stale],
    namespaces: [namespace('apps')],
  });
  return testServers(testConfig(), NOW, cluster);
}

describe('/metrics', () => {
  it("shows each PVC's last success, duration, schedule interval and overdue state", async () => {
    const text = (await servers().metrics.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /backsnap_backup_last_success_timestamp_seconds\{namespace="apps",pvc="data"\} 1795917640\b/);
    assert.match(text, /backsnap_backup_last_duration_seconds\{namespace="apps",pvc="data"\} 100\b/);
    assert.match(text, /backsnap_backup_last_failed\{namespace="apps",pvc="data"\} 0\b/);
    assert.match(text, /backsnap_backup_schedule_interval_seconds\{namespace="apps",pvc="data"\} 86400\b/);
    assert.match(text, /backsnap_backup_overdue\{namespace="apps",pvc="old"\} 1\b/);
    assert.match(text, /backsnap_backup_overdue\{namespace="apps",pvc="data"\} 0\b/);
    assert.match(text, /backsnap_backup_running_seconds\{namespace="apps",pvc="data"\} 600\b/);
    assert.match(text, /backsnap_backups_running 1\b/);
    assert.match(text, /backsnap_pvcs_without_recent_backup 1\b/);
    assert.match(text, /backsnap_cluster_scrape_error 0\b/);
  });

  it('reports every PVC of a cluster larger than one slice of a scrape, and the same again', async () => {
    const many = Array.from({ length: 60 }, (_, i) => pvc(`vol-${i}`));
    const cluster = memoryCluster({ backups: [], restores: [], pvcs: many, namespaces: [namespace('apps')] });
    const { metrics } = testServers(testConfig(), NOW, cluster);
    for (const scrape of ['first', 'second']) {
      const text = (await metrics.inject({ method: 'GET', url: '/metrics' })).body;
      const series = text.split('\n').filter((line) => line.startsWith('backsnap_backup_schedule_interval_seconds{'));
      assert.equal(series.length, 60, `${scrape} scrape`);
      assert.ok(series.every((line) => line.endsWith(' 86400')), `${scrape} scrape: daily everywhere`);
    }
  });

  it('counts hook latency and errors by route', async () => {
    const { hooks, metrics } = servers();
    await hooks.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data'), ...admissionTickets(backup('x', { pvc: 'data' }))], BACKUP_CHILD_GROUPS), headers: HOOK_AUTH });
    await hooks.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: '{}', headers: { 'content-type': 'application/json', ...HOOK_AUTH } });
    await hooks.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: '{}', headers: { 'content-type': 'application/json' } });
    const text = (await metrics.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /backsnap_hook_duration_seconds_count\{route="\/hooks\/pvcbackup\/sync",code="200"\} 1\b/);
    assert.match(text, /backsnap_hook_errors_total\{route="\/hooks\/pvcbackup\/sync",code="400"\} 1\b/);
    assert.match(text, /backsnap_hook_errors_total\{route="\/hooks\/pvcbackup\/sync",code="401"\} 1\b/);
    assert.match(text, /backsnap_hook_authentication_enabled 1\b/);
    assert.match(text, /backsnap_hook_decisions_total\{route="\/hooks\/pvcbackup\/sync",reason="SnapshotPending"\} 1\b/);
  });
});
