// The snapshot controller's and CSI snapshotter's share of the node agent: a VolumeSnapshot of a
// bound claim becomes a copy of the claim's directory, a VolumeSnapshotContent and a ready status.
// Data of deleted snapshots is removed; there are no finalizers, so nothing waits for the agent.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeRest } from '../env/kube-rest.ts';
import { copyTree } from './copy.ts';
import { DRIVER } from './provisioner.ts';
import { claimDirectory } from './volumes.ts';
import type { PersistentVolumeClaim, VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent } from './types.ts';

/** Snapshots of a claim with this annotation set to "true" are never made ready: a stuck driver. */
export const STALL_ANNOTATION = 'node-agent.backsnap.test/stall-snapshots';
const DEFAULT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';
const GROUP = '/apis/snapshot.storage.k8s.io/v1';

export interface SnapshotterContext {
  kube: KubeRest;
  dataDir: string;
  log: (line: string) => void;
  snapshotDir(snapshotUid: string): string;
}

const contentNameOf = (snapshot: VolumeSnapshot): string => `snapcontent-${snapshot.metadata.uid}`;
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function createSnapshotter(ctx: SnapshotterContext): { reconcile(): Promise<void> } {
  const { kube, log } = ctx;
  const stalled = new Set<string>();

  async function take(snapshot: VolumeSnapshot, snapshotClass: VolumeSnapshotClass): Promise<void> {
    const namespace = snapshot.metadata.namespace ?? 'default';
    const claimName = snapshot.spec.source.persistentVolumeClaimName as string;
    const pvc = await kube.get<PersistentVolumeClaim>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`);
    if (pvc?.status?.phase !== 'Bound') return;
    const name = `${namespace}/${snapshot.metadata.name}`;
    if (pvc.metadata.annotations?.[STALL_ANNOTATION] === 'true') {
      if (!stalled.has(snapshot.metadata.uid)) log(`volumesnapshot ${name}: source claim says stall; never ready`);
      stalled.add(snapshot.metadata.uid);
      return;
    }
    const dir = ctx.snapshotDir(snapshot.metadata.uid);
    if (!existsSync(dir)) await copyTree(await claimDirectory(kube, namespace, claimName), dir);
    const restoreSize = pvc.status.capacity?.storage ?? pvc.spec.resources?.requests?.storage ?? '0';
    const contentName = contentNameOf(snapshot);
    await kube.createIfAbsent(`${GROUP}/volumesnapshotcontents`, {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotContent',
      metadata: { name: contentName },
      spec: {
        driver: DRIVER,
        deletionPolicy: snapshotClass.deletionPolicy,
        volumeSnapshotClassName: snapshotClass.metadata.name,
        source: { volumeHandle: pvc.spec.volumeName },
        volumeSnapshotRef: {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          namespace,
          name: snapshot.metadata.name,
          uid: snapshot.metadata.uid,
        },
      },
    });
    const creationTime = now();
    await kube.patch(`${GROUP}/volumesnapshotcontents/${contentName}/status`, {
      status: { readyToUse: true, snapshotHandle: snapshot.metadata.uid, creationTime: Date.parse(creationTime) * 1e6 },
    });
    await kube.patch(`${GROUP}/namespaces/${namespace}/volumesnapshots/${snapshot.metadata.name}/status`, {
      status: { boundVolumeSnapshotContentName: contentName, creationTime, readyToUse: true, restoreSize },
    });
    log(`volumesnapshot ${name}: ready (${restoreSize} from ${claimName})`);
  }

  return {
    async reconcile() {
      // Data directories are listed before the snapshots, so new data is never taken for an orphan.
      const snapshotsDir = join(ctx.dataDir, 'snapshots');
      mkdirSync(snapshotsDir, { recursive: true });
      const dirs = readdirSync(snapshotsDir).filter((d) => !d.startsWith('.'));
      const classes = (await kube.list<VolumeSnapshotClass>(`${GROUP}/volumesnapshotclasses`)).items;
      const defaultClass = classes.find((c) => c.driver === DRIVER && c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
      const snapshots = (await kube.list<VolumeSnapshot>(`${GROUP}/volumesnapshots`)).items;
      const uids = new Set(snapshots.map((s) => s.metadata.uid));
      for (const dir of dirs) if (!uids.has(dir)) rmSync(join(snapshotsDir, dir), { recursive: true, force: true });
      const contents = (await kube.list<VolumeSnapshotContent>(`${GROUP}/volumesnapshotcontents`)).items;
      for (const content of contents) {
        const ref = content.spec.volumeSnapshotRef.uid;
        const orphan = ref !== undefined && !uids.has(ref);
        if (content.spec.driver === DRIVER && content.spec.deletionPolicy === 'Delete' && orphan) await kube.delete(`${GROUP}/volumesnapshotcontents/${content.metadata.name}`);
      }
      for (const snapshot of snapshots) {
        if (snapshot.spec.source.persistentVolumeClaimName === undefined || snapshot.metadata.deletionTimestamp !== undefined) continue;
        if (snapshot.status?.readyToUse === true) continue;
        const className = snapshot.spec.volumeSnapshotClassName;
        const snapshotClass = className === undefined ? defaultClass : classes.find((c) => c.metadata.name === className);
        if (snapshotClass?.driver !== DRIVER) continue;
        try {
          if (className === undefined) {
            // Like the snapshot controller: a snapshot without class gets the default one.
            const path = `${GROUP}/namespaces/${snapshot.metadata.namespace}/volumesnapshots/${snapshot.metadata.name}`;
            await kube.patch(path, { spec: { volumeSnapshotClassName: snapshotClass.metadata.name } });
          }
          await take(snapshot, snapshotClass);
        } catch (error) {
          log(`volumesnapshot ${snapshot.metadata.namespace}/${snapshot.metadata.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
