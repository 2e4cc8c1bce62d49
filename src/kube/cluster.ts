// The only place that talks to the API server (for housekeeping and the debug view; hooks never
// do). Behind an interface so the HTTP routes are tested with an in-memory cluster.
import { ApiException, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { MANAGED_BY } from '../labels.ts';
import type { Job, Namespace, PersistentVolumeClaim } from './types.ts';
import type { PVCBackup } from '../backup/types.ts';
import type { PVCRestore } from '../restore/types.ts';
import { GROUP, VERSION } from '../schema/crds.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Everything housekeeping, metrics and the debug view look at. */
export interface ClusterState {
  backups: PVCBackup[];
  restores: PVCRestore[];
  pvcs: PersistentVolumeClaim[];
  namespaces: Namespace[];
}

export interface Cluster {
  listBackups(): Promise<PVCBackup[]>;
  listRestores(): Promise<PVCRestore[]>;
  listPvcs(): Promise<PersistentVolumeClaim[]>;
  listNamespaces(): Promise<Namespace[]>;
  /** Deletes with a UID precondition; false when it was already gone or replaced. */
  deleteBackup(ref: ObjectRef): Promise<boolean>;
  deleteRestore(ref: ObjectRef): Promise<boolean>;
  /** Creates; false when an object of that name already exists. */
  createBackup(backup: PVCBackup): Promise<boolean>;
  /** The Jobs of backups and restores (label app.kubernetes.io/managed-by). */
  listJobs(): Promise<Job[]>;
  /** Merges annotations into a run; false when it is gone or replaced. */
  annotateRun(kind: 'PVCBackup' | 'PVCRestore', ref: ObjectRef, annotations: Record<string, string>): Promise<boolean>;
}

export async function readClusterState(cluster: Cluster): Promise<ClusterState> {
  const [backups, restores, pvcs, namespaces] = await Promise.all([cluster.listBackups(), cluster.listRestores(), cluster.listPvcs(), cluster.listNamespaces()]);
  return { backups, restores, pvcs, namespaces };
}

function isStatus(error: unknown, ...codes: number[]): boolean {
  return error instanceof ApiException && codes.includes(error.code);
}

/**
 * client-node turns timestamps into Dates; plans work on the wire format. The model classes of
 * core objects use the API's field names, so a JSON round trip gives it back (RFC 3339 times).
 */
function wire<T>(items: unknown[]): T[] {
  return JSON.parse(JSON.stringify(items)) as T[];
}

export function kubernetesCluster(kubeConfig: KubeConfig = defaultKubeConfig()): Cluster {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const listCustom = async <T>(plural: string): Promise<T[]> => {
    const list = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items?: T[] };
    return list.items ?? [];
  };
  const deleteCustom = async (plural: string, ref: ObjectRef): Promise<boolean> => {
    try {
      await custom.deleteNamespacedCustomObject({
        group: GROUP, version: VERSION, plural, namespace: ref.namespace, name: ref.name,
        propagationPolicy: 'Background', body: { preconditions: { uid: ref.uid } },
      });
      return true;
    } catch (error) {
      if (isStatus(error, 404, 409)) return false;
      throw error;
    }
  };
  return {
    listBackups: () => listCustom<PVCBackup>('pvcbackups'),
    listRestores: () => listCustom<PVCRestore>('pvcrestores'),
    listPvcs: async () => wire<PersistentVolumeClaim>((await core.listPersistentVolumeClaimForAllNamespaces()).items),
    listNamespaces: async () => wire<Namespace>((await core.listNamespace()).items),
    deleteBackup: (ref) => deleteCustom('pvcbackups', ref),
    deleteRestore: (ref) => deleteCustom('pvcrestores', ref),
    createBackup: async (backup) => {
      try {
        await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: 'pvcbackups', namespace: backup.metadata.namespace ?? '', body: backup });
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    },
    listJobs: async () => {
      const selector = `app.kubernetes.io/managed-by=${MANAGED_BY['app.kubernetes.io/managed-by']}`;
      return wire<Job>((await batch.listJobForAllNamespaces({ labelSelector: selector })).items);
    },
    annotateRun: async (kind, ref, annotations) => {
      try {
        await custom.patchNamespacedCustomObject(
          {
            group: GROUP, version: VERSION, plural: kind === 'PVCBackup' ? 'pvcbackups' : 'pvcrestores', namespace: ref.namespace, name: ref.name,
            // The UID guards against touching a newer object of the same name.
            body: { metadata: { uid: ref.uid, annotations } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      } catch (error) {
        if (isStatus(error, 404, 409, 422)) return false;
        throw error;
      }
    },
  };
}

/** In a Pod: its service account; elsewhere: KUBECONFIG or ~/.kube/config. */
export function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
