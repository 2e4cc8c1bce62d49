// POST /v1/housekeeping and GET /debug/schedules against an in-memory cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import { backup, namespace, pvc, restore, testConfig, testServers } from '../support/fixtures.ts';
import { memoryCluster } from '../support/memory-cluster.ts';

const NOW = new Date('2026-11-29T12:00:00Z');
const TOKEN = 'housekeeping-token';
const auth = { authorization: `Bearer ${TOKEN}` };

function finished(name: string, pvcName: string, result: 'Succeeded' | 'Failed', finishedAt: string, ttl?: string): PVCBackup {
  const status: PVCBackupStatus = { phase: result, result, startedAt: finishedAt, finishedAt };
  return backup(name, ttl === undefined ? { pvc: pvcName } : { pvc: pvcName, ttl }, { status });
}

function setup(backups: PVCBackup[], env: Record<string, string> = {}) {
  const cluster = memoryCluster({
    backups,
    restores: [restore('r-old', { sourcePvc: 'data', ttl: '1h' }, { status: { result: 'Succeeded', finishedAt: '2026-11-29T10:00:00Z' } }), restore('r-keep', { sourcePvc: 'data' }, { status: { result: 'Succeeded', finishedAt: '2026-11-20T10:00:00Z' } })],
    pvcs: [{ ...pvc('data'), metadata: { ...pvc('data').metadata, creationTimestamp: '2026-11-01T00:00:00Z' } }],
    namespaces: [namespace('apps', { 'backsnap.skyb.it/schedule': '0 11 * * *' })],
  });
  const app = testServers(testConfig({ BACKSNAP_HOUSEKEEPING_TOKEN: TOKEN, ...env }), NOW, cluster).operations;
  return { app, cluster };
}

describe('housekeeping', () => {
  const history = () => [
    finished('data-1', 'data', 'Succeeded', '2026-11-25T02:00:00Z', '72h'),
    finished('data-2', 'data', 'Succeeded', '2026-11-26T02:00:00Z', '72h'),
    finished('data-3', 'data', 'Failed', '2026-11-27T02:00:00Z', '24h'),
    finished('data-4', 'data', 'Failed', '2026-11-29T11:00:00Z', '24h'),
    finished('manual', 'data', 'Succeeded', '2026-11-01T02:00:00Z'),
    { ...finished('logs-1', 'logs', 'Succeeded', '2026-11-20T02:00:00Z', '1h') },
  ];

  it('deletes expired objects, keeps the newest successful backup per PVC and objects without a ttl', async () => {
    const { app, cluster } = setup(history(), { BACKSNAP_HOUSEKEEPING_GRACE: '10h' });
    const reply = await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: auth });
    assert.equal(reply.statusCode, 200);
    const summary = reply.json<{ deleted: { kind: string; name: string }[]; kept: { name: string }[]; created: unknown[] }>();
    assert.deepEqual(summary.deleted.map((d) => `${d.kind}/${d.name}`).sort(), ['PVCBackup/data-1', 'PVCBackup/data-3', 'PVCRestore/r-old']);
    assert.deepEqual(summary.kept.map((k) => k.name).sort(), ['data-2', 'logs-1']);
    assert.deepEqual(cluster.state.backups.map((b) => b.metadata.name).sort(), ['data-2', 'data-4', 'logs-1', 'manual']);
    assert.deepEqual(cluster.state.restores.map((r) => r.metadata.name), ['r-keep']);
    assert.deepEqual(summary.created, []);
  });

  it('is idempotent: a second run (or another replica) finds nothing left to do', async () => {
    const { app } = setup(history(), { BACKSNAP_HOUSEKEEPING_GRACE: '10h' });
    await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: auth });
    const second = (await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: auth })).json<{ deleted: unknown[] }>();
    assert.deepEqual(second.deleted, []);
  });

  it('creates an automatic backup the scheduler is overdue for, adoptable by the DecoratorController', async () => {
    const { app, cluster } = setup([], { BACKSNAP_HOUSEKEEPING_GRACE: '15m' });
    const summary = (await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: auth })).json<{ created: { name: string }[] }>();
    assert.deepEqual(summary.created.map((c) => c.name), ['data-1795950000']);
    const created = cluster.state.backups[0];
    assert.equal(created?.metadata.annotations?.['metacontroller.k8s.io/decorator-controller'], 'backsnap-scheduler');
    assert.deepEqual(created?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]), [['PersistentVolumeClaim', 'data', true]]);
    const again = (await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: auth })).json<{ created: unknown[] }>();
    assert.deepEqual(again.created, [], 'the created backup covers the slot');
  });

  it('requires its token and is disabled without one', async () => {
    const { app } = setup([]);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/housekeeping' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/housekeeping', headers: { authorization: 'Bearer x' } })).statusCode, 401);
    const disabled = testServers(testConfig(), NOW, memoryCluster({ backups: [], restores: [], pvcs: [], namespaces: [] })).operations;
    assert.equal((await disabled.inject({ method: 'POST', url: '/v1/housekeeping' })).statusCode, 503);
  });

  it('shows each PVC\'s schedule, its source, last backup and next slot', async () => {
    const { app } = setup(history());
    const reply = await app.inject({ method: 'GET', url: '/debug/schedules', headers: auth });
    assert.equal(reply.statusCode, 200);
    const [row] = reply.json<{ pvcs: Record<string, unknown>[] }>().pvcs;
    assert.deepEqual(
      { ...row, lastBackup: (row?.['lastBackup'] as { name: string }).name },
      {
        namespace: 'apps', pvc: 'data', schedule: '0 11 * * *', source: 'namespace', state: 'Due', message: 'slot 2026-11-29T11:00:00Z is due',
        nextSlot: '2026-11-30T11:00:00Z', lastBackup: 'data-4', lastSuccessAt: '2026-11-26T02:00:00Z',
      },
    );
  });
});
