// The customize hooks: which related objects each controller asks Metacontroller for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RelatedResourceRule } from '../../src/metacontroller/types.ts';
import { repositoryLabel } from '../../src/restic/credentials.ts';
import { backup, namespace, restore, testApp } from '../support/fixtures.ts';
import { post } from '../support/hooks.ts';

const controller = { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'CompositeController', metadata: { name: 'x' } };
type Answer = { relatedResources: RelatedResourceRule[] };

describe('customize hooks', () => {
  it('an unfinished backup asks for its Namespace, its PVC, the Jobs of its repository, its maintenance records, its Job Pods and its tickets from the backup queue', async () => {
    const answer = await post<Answer>(testApp(), '/hooks/pvcbackup/customize', { controller, parent: backup('nightly', { pvc: 'data' }) });
    assert.deepEqual(Object.keys(answer), ['relatedResources']);
    assert.deepEqual(answer.relatedResources, [
      { apiVersion: 'v1', resource: 'namespaces', names: ['apps'] },
      { apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace: 'apps', names: ['data'] },
      { apiVersion: 'batch/v1', resource: 'jobs', labelSelector: { matchLabels: { 'backsnap.skyb.it/repository': repositoryLabel({ namespace: 'apps', pvc: 'data' }) } } },
      { apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcbackups', namespace: 'apps', labelSelector: { matchLabels: { 'backsnap.skyb.it/pvc': 'data', 'backsnap.skyb.it/maintenance': 'true' } } },
      { apiVersion: 'v1', resource: 'pods', namespace: 'apps', labelSelector: { matchLabels: { 'backsnap.skyb.it/run-uid': 'uid-apps-nightly' } } },
      { apiVersion: 'v1', resource: 'configmaps', namespace: 'apps', names: ['backup-admitted-uid-apps-nightly', 'backup-volume-data'] },
    ]);
  });

  it('the backup queue asks for every unfinished PVCBackup of the cluster', async () => {
    const answer = await post<Answer>(testApp(), '/hooks/backup-queue/customize', { controller, parent: namespace('backsnap') });
    assert.deepEqual(answer.relatedResources, [{ apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcbackups', labelSelector: { matchExpressions: [{ key: 'backsnap.skyb.it/finished', operator: 'DoesNotExist' }] } }]);
  });

  // Its sync only retires children, and every rule of every parent is matched against every
  // related event by Metacontroller: history must cost it nothing.
  for (const result of ['Succeeded', 'Failed'] as const) {
    it(`a finished (${result}) backup or restore asks for nothing`, async () => {
      const finishedBackup = backup('nightly', { pvc: 'data' }, { status: { result } });
      const finishedRestore = restore('back', { sourcePvc: 'data' }, { status: { result } });
      assert.deepEqual((await post<Answer>(testApp(), '/hooks/pvcbackup/customize', { controller, parent: finishedBackup })).relatedResources, []);
      assert.deepEqual((await post<Answer>(testApp(), '/hooks/pvcrestore/customize', { controller, parent: finishedRestore })).relatedResources, []);
    });
  }

  it('a cross-namespace restore asks for both namespaces, the target and the source PVC', async () => {
    const parent = restore('back', { sourcePvc: 'data', sourceNamespace: 'prod', targetPvc: 'copy' });
    const answer = await post<Answer>(testApp(), '/hooks/pvcrestore/customize', { controller, parent });
    assert.deepEqual(answer.relatedResources, [
      { apiVersion: 'v1', resource: 'namespaces', names: ['apps', 'prod'] },
      { apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace: 'apps', names: ['copy'] },
      { apiVersion: 'v1', resource: 'persistentvolumeclaims', namespace: 'prod', names: ['data'] },
      { apiVersion: 'v1', resource: 'pods', namespace: 'apps', labelSelector: { matchLabels: { 'backsnap.skyb.it/run-uid': 'uid-restore-apps-back' } } },
    ]);
  });
});
