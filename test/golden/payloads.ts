// Sync requests assembled from objects captured from a real API server (the sandbox,
// `kubectl get -o json`): the golden test answers them, the benchmark replays them.
import { readFileSync } from 'node:fs';

const controller = (kind: string, name: string) => ({ apiVersion: 'metacontroller.k8s.io/v1alpha1', kind, metadata: { name } });

function captured(name: string): Record<string, unknown> & { metadata: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL(`captured/${name}.json`, import.meta.url), 'utf8'));
}

function fresh(name: string) {
  const { status: _status, ...object } = captured(name);
  return object;
}

function key(o: { metadata: Record<string, unknown> }): string {
  return o.metadata['namespace'] === undefined ? String(o.metadata['name']) : `${String(o.metadata['namespace'])}/${String(o.metadata['name'])}`;
}

export const GOLDEN_CASES: { name: string; url: string; body: () => unknown }[] = [
  {
    name: 'pvcbackup-first-sync',
    url: '/hooks/pvcbackup/sync',
    body: () => ({
      controller: controller('CompositeController', 'backsnap-pvcbackup'),
      parent: fresh('pvcbackup-started'),
      children: { 'Secret.v1': {}, 'VolumeSnapshot.snapshot.storage.k8s.io/v1': {}, 'PersistentVolumeClaim.v1': {}, 'Job.batch/v1': {} },
      related: {
        'PersistentVolumeClaim.v1': { [key(captured('pvc'))]: captured('pvc') },
        'Pod.v1': {},
        'PVCBackup.backsnap.skyb.it/v1alpha1': { [key(captured('pvcbackup-succeeded'))]: captured('pvcbackup-succeeded') },
      },
      finalizing: false,
    }),
  },
  {
    name: 'pvcrestore-first-sync',
    url: '/hooks/pvcrestore/sync',
    body: () => ({
      controller: controller('CompositeController', 'backsnap-pvcrestore'),
      parent: fresh('pvcrestore-succeeded'),
      children: { 'Secret.v1': {}, 'PersistentVolumeClaim.v1': {}, 'Job.batch/v1': {} },
      related: {
        'Namespace.v1': { demo: captured('namespace') },
        'PersistentVolumeClaim.v1': { [key(captured('pvc'))]: captured('pvc') },
        'Pod.v1': {},
      },
      finalizing: false,
    }),
  },
  {
    name: 'scheduler-sync',
    url: '/hooks/scheduler/sync',
    body: () => {
      const ns = captured('namespace');
      ns.metadata['annotations'] = { 'backsnap.skyb.it/schedule': 'H 3 * * *' };
      return {
        controller: controller('DecoratorController', 'backsnap-scheduler'),
        object: { ...captured('pvc'), metadata: { ...captured('pvc').metadata, creationTimestamp: '2026-11-20T00:00:00Z' } },
        attachments: { 'PVCBackup.backsnap.skyb.it/v1alpha1': {} },
        related: { 'Namespace.v1': { demo: ns } },
        finalizing: false,
      };
    },
  },
];

