// Contract tests of the scheduler's DecoratorController hooks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, PersistentVolumeClaim } from '../../src/kube/types.ts';
import type { DecoratorSyncResponse } from '../../src/metacontroller/types.ts';
import { groups, namespace, pvc, testApp, testConfig } from '../support/fixtures.ts';
import { post } from '../support/hooks.ts';

const URL = '/hooks/scheduler/sync';
const controller = { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'DecoratorController', metadata: { name: 'backsnap-scheduler' } };
const AT_SLOT = new Date('2026-11-29T02:00:30Z');

function target(annotations: Record<string, string> = { 'backsnap.skyb.it/schedule': '0 2 * * *' }): PersistentVolumeClaim {
  const base = pvc('data', 'apps', { annotations });
  return { ...base, metadata: { ...base.metadata, creationTimestamp: '2026-11-01T00:00:00Z' } };
}

function request(object: PersistentVolumeClaim, attachments: KubeObject[] = []) {
  return { controller, object, attachments: { 'PVCBackup.backsnap.skyb.it/v1alpha1': {}, ...groups(attachments) }, related: groups([namespace('apps')]), finalizing: false };
}

function assertDecoratorShape(answer: object): void {
  for (const key of Object.keys(answer)) assert.ok(['labels', 'annotations', 'status', 'attachments', 'resyncAfterSeconds', 'finalized'].includes(key), `unexpected field ${key}`);
}

describe('scheduler DecoratorController sync', () => {
  const app = testApp(testConfig(), AT_SLOT);

  it('creates the due PVCBackup with a deterministic name and remembers the slot on the PVC', async () => {
    const answer = await post<DecoratorSyncResponse>(app, URL, request(target()));
    assertDecoratorShape(answer);
    assert.equal(answer.attachments.length, 1);
    const created = answer.attachments[0] as KubeObject & { spec: Record<string, unknown> };
    assert.equal(created.metadata.name, 'data-1795917600');
    assert.deepEqual(created.spec, { pvc: 'data', ttl: '72h' });
    assert.equal(created.metadata.annotations?.['backsnap.skyb.it/scheduled-for'], '2026-11-29T02:00:00Z');
    assert.deepEqual(answer.annotations, { 'backsnap.skyb.it/last-scheduled': '2026-11-29T02:00:00Z' });
    assert.equal(answer.resyncAfterSeconds, 24 * 3600 - 30, 'wakes up at the next slot');
  });

  it('keeps existing attachments and creates nothing more once the slot is remembered (restart-safe)', async () => {
    const first = await post<DecoratorSyncResponse>(app, URL, request(target()));
    const created = { ...(first.attachments[0] as KubeObject), status: { result: 'Succeeded' } };
    const remembered = target({ 'backsnap.skyb.it/schedule': '0 2 * * *', 'backsnap.skyb.it/last-scheduled': '2026-11-29T02:00:00Z' });
    const again = await post<DecoratorSyncResponse>(app, URL, request(remembered, [created]));
    assert.deepEqual(again.attachments.map((a) => a.metadata.name), ['data-1795917600']);
    assert.equal(again.annotations, undefined, 'an unchanged PVC is not written');
    const sameAnswerTwice = await post<DecoratorSyncResponse>(app, URL, request(remembered, [created]));
    assert.deepEqual(sameAnswerTwice, again);
  });

  it('reports an invalid schedule on the PVC once, and clears it when fixed', async () => {
    const broken = target({ 'backsnap.skyb.it/schedule': '0 2 * *' });
    const answer = await post<DecoratorSyncResponse>(app, URL, request(broken));
    assert.match(answer.annotations?.['backsnap.skyb.it/schedule-error'] ?? '', /expected 5 fields/);
    assert.equal(answer.resyncAfterSeconds, undefined, 'no retry loop: the next change of the PVC or namespace brings a new sync');
    assert.deepEqual(answer.attachments, []);
    const reported = target({ 'backsnap.skyb.it/schedule': '0 2 * *', 'backsnap.skyb.it/schedule-error': answer.annotations?.['backsnap.skyb.it/schedule-error'] ?? '' });
    assert.equal((await post<DecoratorSyncResponse>(app, URL, request(reported))).annotations, undefined);
    const fixed = target({ 'backsnap.skyb.it/schedule': '0 2 * * *', 'backsnap.skyb.it/schedule-error': 'old' });
    assert.equal((await post<DecoratorSyncResponse>(app, URL, request(fixed))).annotations?.['backsnap.skyb.it/schedule-error'], null);
  });

  it('uses operator defaults for automatic backups', async () => {
    const withDefaults = testApp(testConfig({ BACKSNAP_BACKUP_NODE_SELECTOR: '{"zone":"a"}', BACKSNAP_BACKUP_PRIORITY_CLASS: 'low', BACKSNAP_AUTOMATIC_BACKUP_TTL: '24h' }), AT_SLOT);
    const answer = await post<DecoratorSyncResponse>(withDefaults, URL, request(target()));
    assert.deepEqual((answer.attachments[0] as KubeObject & { spec: unknown }).spec, { nodeSelector: { zone: 'a' }, priorityClassName: 'low', pvc: 'data', ttl: '24h' });
  });

  it("asks for the Namespace, the PVC's backups (by label) and the restoring PVCRestore", async () => {
    const restored = { ...target(), metadata: { ...target().metadata, ownerReferences: [{ apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCRestore', name: 'r1', uid: 'u', controller: true }] } };
    const answer = await post<{ relatedResources: unknown[] }>(app, '/hooks/scheduler/customize', { controller, parent: restored });
    assert.deepEqual(answer.relatedResources, [
      { apiVersion: 'v1', resource: 'namespaces', names: ['apps'] },
      { apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcbackups', namespace: 'apps', labelSelector: { matchLabels: { 'backsnap.skyb.it/pvc': restored.metadata.name, 'backsnap.skyb.it/maintenance': 'true' } } },
      { apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcrestores', namespace: 'apps', names: ['r1'] },
    ]);
  });

  it("remembers the repository's last prune and check from the PVC's backups, manual ones too", async () => {
    const pvcNow = target();
    const manual = { apiVersion: 'backsnap.skyb.it/v1alpha1' as const, kind: 'PVCBackup' as const, metadata: { name: 'by-hand', namespace: 'apps', uid: 'm' }, spec: { pvc: pvcNow.metadata.name }, status: { result: 'Succeeded' as const, maintenance: { prune: { at: '2026-11-29T01:00:00Z', result: 'Succeeded' as const }, check: { at: '2026-11-29T01:00:00Z', result: 'Failed' as const, message: 'pack 12ab: hash mismatch' } } } };
    const request = { controller, object: pvcNow, attachments: { 'PVCBackup.backsnap.skyb.it/v1alpha1': {} }, related: groups([namespace('apps'), manual]) };
    const answer = await post<{ annotations?: Record<string, string | null> }>(app, '/hooks/scheduler/sync', request);
    assert.equal(answer.annotations?.['backsnap.skyb.it/last-prune'], '2026-11-29T01:00:00Z Succeeded');
    assert.equal(answer.annotations?.['backsnap.skyb.it/last-check'], '2026-11-29T01:00:00Z Failed: pack 12ab: hash mismatch');
  });
});

describe('PVCBackup labeler', () => {
  const app = testApp();
  it('labels a backup with its PVC, then as finished, then as retired, and writes nothing when nothing changed', async () => {
    const labels = async (object: unknown) => (await post<{ labels?: Record<string, string | null>; attachments: unknown[] }>(app, '/hooks/pvcbackup-labels/sync', { controller, object, attachments: {} }));
    const running = { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name: 'b', namespace: 'apps', uid: 'b' }, spec: { pvc: 'data' } };
    assert.deepEqual(await labels(running), { attachments: [], labels: { 'backsnap.skyb.it/pvc': 'data' } });
    const labelled = { ...running, metadata: { ...running.metadata, labels: { 'backsnap.skyb.it/pvc': 'data' } } };
    assert.deepEqual(await labels(labelled), { attachments: [] });
    assert.deepEqual(await labels({ ...labelled, status: { result: 'Failed' } }), { attachments: [], labels: { 'backsnap.skyb.it/finished': 'true' } });
    assert.deepEqual(await labels({ ...labelled, status: { result: 'Succeeded', maintenance: { prune: { at: '2026-11-29T01:00:00Z', result: 'Succeeded' } } } }), { attachments: [], labels: { 'backsnap.skyb.it/finished': 'true', 'backsnap.skyb.it/maintenance': 'true' } });
    const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: '', lastTransitionTime: '2026-11-29T01:00:00Z' });
    const finished = { ...labelled, metadata: { ...labelled.metadata, labels: { ...labelled.metadata.labels, 'backsnap.skyb.it/finished': 'true' } } };
    assert.deepEqual(await labels({ ...finished, status: { result: 'Succeeded', conditions: [condition('Retired', 'False', 'Settling')] } }), { attachments: [] }, 'not retired while settling');
    assert.deepEqual(await labels({ ...finished, status: { result: 'Succeeded', conditions: [condition('Ready', 'True', 'Succeeded'), condition('Retired', 'True', 'Retired')] } }), { attachments: [], labels: { 'backsnap.skyb.it/retired': 'true' } });
    const long = await labels({ ...running, spec: { pvc: 'p'.repeat(200) } });
    assert.ok((long.labels?.['backsnap.skyb.it/pvc'] ?? '').length <= 63);
  });
});
