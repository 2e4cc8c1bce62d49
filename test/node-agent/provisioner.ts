// The CSI external-provisioner's share of the node agent: a directory and a PV for each claim the
// PV controller hands to our driver (a copy of a snapshot's data if the claim restores one), and
// deletion of both once a PV with reclaimPolicy Delete is released. The PV carries a claimRef, so
// kube-controller-manager's PV controller completes the binding, as with a real CSI driver.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeRest } from '../env/kube-rest.ts';
import { copyTree } from './copy.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeSnapshot } from './types.ts';

export const DRIVER = 'node-agent.backsnap.test';
const PROVISIONER_ANNOTATIONS = ['volume.kubernetes.io/storage-provisioner', 'volume.beta.kubernetes.io/storage-provisioner'];
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

export interface ProvisionerContext {
  kube: KubeRest;
  dataDir: string;
  log: (line: string) => void;
  volumeDir(pvName: string): string;
  snapshotDir(snapshotUid: string): string;
}

const pvNameOf = (pvc: PersistentVolumeClaim): string => `pvc-${pvc.metadata.uid}`;

export function createProvisioner(ctx: ProvisionerContext): { reconcile(): Promise<void> } {
  const { kube, log } = ctx;
  const waitingFor = new Set<string>();
  const say = (key: string, line: string): void => {
    if (!waitingFor.has(key)) log(line);
    waitingFor.add(key);
  };

  /** The directory the new volume starts from, or undefined while its snapshot is not ready. */
  async function restoreSource(pvc: PersistentVolumeClaim): Promise<string | null | undefined> {
    const source = pvc.spec.dataSource;
    if (source === undefined) return null;
    const name = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    if (source.kind !== 'VolumeSnapshot' || source.apiGroup !== 'snapshot.storage.k8s.io') {
      say(`${pvc.metadata.uid}/source`, `pvc ${name}: dataSource kind ${source.kind} is not supported; waiting forever`);
      return undefined;
    }
    const snapshot = await kube.get<VolumeSnapshot>(
      `/apis/snapshot.storage.k8s.io/v1/namespaces/${pvc.metadata.namespace}/volumesnapshots/${source.name}`,
    );
    const dir = snapshot === undefined ? undefined : ctx.snapshotDir(snapshot.metadata.uid);
    if (snapshot?.status?.readyToUse !== true || dir === undefined || !existsSync(dir)) {
      say(`${pvc.metadata.uid}/snapshot`, `pvc ${name}: waiting for volumesnapshot ${source.name} to be ready`);
      return undefined;
    }
    return dir;
  }

  async function provision(pvc: PersistentVolumeClaim, storageClass: StorageClass): Promise<void> {
    const pvName = pvNameOf(pvc);
    const dir = ctx.volumeDir(pvName);
    if (!existsSync(dir)) {
      const source = await restoreSource(pvc);
      if (source === undefined) return;
      if (source === null) mkdirSync(dir, { recursive: true, mode: 0o777 });
      else await copyTree(source, dir);
    }
    const size = pvc.spec.resources?.requests?.storage ?? '1Gi';
    await kube.createIfAbsent('/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [PROVISIONED_BY]: DRIVER } },
      spec: {
        capacity: { storage: size },
        accessModes: pvc.spec.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
        storageClassName: storageClass.metadata.name,
        volumeMode: pvc.spec.volumeMode ?? 'Filesystem',
        hostPath: { path: dir, type: 'Directory' },
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: pvc.metadata.namespace,
          name: pvc.metadata.name,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
      },
    });
    log(`pvc ${pvc.metadata.namespace}/${pvc.metadata.name}: provisioned ${pvName} (${size})`);
  }

  async function reclaim(pv: PersistentVolume): Promise<void> {
    rmSync(ctx.volumeDir(pv.metadata.name), { recursive: true, force: true });
    await kube.delete(`/api/v1/persistentvolumes/${pv.metadata.name}`);
    log(`pv ${pv.metadata.name}: released, deleted with its data`);
  }

  return {
    async reconcile() {
      // Directories are listed before the PVs, so one created after the PV list is never mistaken for an orphan.
      const volumesDir = join(ctx.dataDir, 'volumes');
      mkdirSync(volumesDir, { recursive: true });
      const dirs = readdirSync(volumesDir);
      const classes = (await kube.list<StorageClass>('/apis/storage.k8s.io/v1/storageclasses')).items;
      const ours = new Map(classes.filter((c) => c.provisioner === DRIVER).map((c) => [c.metadata.name, c]));
      const pvs = (await kube.list<PersistentVolume>('/api/v1/persistentvolumes')).items;
      const pvNames = new Set(pvs.map((pv) => pv.metadata.name));
      for (const dir of dirs) if (!dir.startsWith('.') && !pvNames.has(dir)) rmSync(join(volumesDir, dir), { recursive: true, force: true });
      for (const pv of pvs) {
        const released = pv.status?.phase === 'Released' && pv.spec.persistentVolumeReclaimPolicy === 'Delete';
        if (pv.metadata.annotations?.[PROVISIONED_BY] === DRIVER && released) await reclaim(pv);
      }
      const pvcs = (await kube.list<PersistentVolumeClaim>('/api/v1/persistentvolumeclaims')).items;
      for (const pvc of pvcs) {
        const handedToUs = PROVISIONER_ANNOTATIONS.some((a) => pvc.metadata.annotations?.[a] === DRIVER);
        const storageClass = ours.get(pvc.spec.storageClassName ?? '');
        if (!handedToUs || storageClass === undefined || pvc.status?.phase !== 'Pending') continue;
        if (pvc.spec.volumeName || pvc.metadata.deletionTimestamp !== undefined || pvNames.has(pvNameOf(pvc))) continue;
        try {
          await provision(pvc, storageClass);
        } catch (error) {
          log(`pvc ${pvc.metadata.namespace}/${pvc.metadata.name}: provisioning failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
