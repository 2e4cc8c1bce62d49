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

/** A ticket of the backup queue as its DecoratorController stores it. */
function ticketOf(parent: { metadata: Record<string, unknown> }, kind: 'volume' | 'admitted', name: string, namespace: string) {
  const uid = String(parent.metadata['uid']);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      uid: kind === 'volume' ? '5d7c1f0e-2b1a-4c3e-9f4d-0a1b2c3d4e5f' : '6e8d2a1f-3c2b-4d4f-8a5e-1b2c3d4e5f60',
      resourceVersion: kind === 'volume' ? '4242' : '4243',
      creationTimestamp: '2026-11-29T07:23:59Z',
      labels: { 'app.kubernetes.io/managed-by': 'backsnap-ts', 'app.kubernetes.io/part-of': 'backsnap', 'app.kubernetes.io/component': 'backsnap-backup-queue', 'backsnap.skyb.it/ticket': kind, 'backsnap.skyb.it/run-uid': uid },
      annotations: { 'metacontroller.k8s.io/decorator-controller': 'backsnap-backup-queue' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'backsnap', uid: '0f9e8d7c-6b5a-4938-2716-151413121110', controller: true, blockOwnerDeletion: true }],
    },
    data: { pvcbackup: `${String(parent.metadata['namespace'])}/${String(parent.metadata['name'])}` },
  };
}

/** The tickets a backup sees when it may start: its PVC's volume and its admission. */
function ticketsOf(parent: { metadata: Record<string, unknown>; spec?: unknown }) {
  const [pvc, namespace] = [String((parent.spec as { pvc?: unknown } | undefined)?.pvc ?? ''), String(parent.metadata['namespace'])];
  const tickets = [ticketOf(parent, 'volume', `backup-volume-${pvc}`, namespace), ticketOf(parent, 'admitted', `backup-admitted-${String(parent.metadata['uid'])}`, namespace)];
  return Object.fromEntries(tickets.map((t) => [key(t), t]));
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
        'ConfigMap.v1': ticketsOf(fresh('pvcbackup-started')),
      },
      finalizing: false,
    }),
  },
  {
    name: 'backup-queue-sync',
    url: '/hooks/backup-queue/sync',
    body: () => ({
      controller: controller('DecoratorController', 'backsnap-backup-queue'),
      object: captured('namespace'),
      attachments: { 'ConfigMap.v1': {} },
      // The started backup with its status dropped: one waiting backup, its volume reserved.
      related: { 'PVCBackup.backsnap.skyb.it/v1alpha1': { [key(captured('pvcbackup-started'))]: fresh('pvcbackup-started') } },
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

