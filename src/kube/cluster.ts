// The only place that talks to the API server (for housekeeping, metrics, the nudge and the debug
// view; hooks never do). Behind an interface so the HTTP routes are tested with an in-memory
// cluster. Reads come from watch-fed caches (watch-cache.ts) once they are synced, so a scrape or a
// tick costs no API request; writes go to the API server.
import { ApiException, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { MANAGED_BY } from '../labels.ts';
import { watchCollection, type WatchedCollection } from './watch-cache.ts';
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

const JOB_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY['app.kubernetes.io/managed-by']}`;

export interface KubernetesCluster extends Cluster {
  /** Stops the watches. */
  stop(): void;
}

export function kubernetesCluster(kubeConfig: KubeConfig = defaultKubeConfig(), onWatchError: (error: unknown) => void = () => {}): KubernetesCluster {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const listCustom = async <T>(plural: string): Promise<T[]> => {
    const list = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items?: T[] };
    return list.items ?? [];
  };
  const watched = {
    backups: watchCollection<PVCBackup>(kubeConfig, { apiVersion: `${GROUP}/${VERSION}`, kind: 'PVCBackup', path: `/apis/${GROUP}/${VERSION}/pvcbackups` }, onWatchError),
    restores: watchCollection<PVCRestore>(kubeConfig, { apiVersion: `${GROUP}/${VERSION}`, kind: 'PVCRestore', path: `/apis/${GROUP}/${VERSION}/pvcrestores` }, onWatchError),
    pvcs: watchCollection<PersistentVolumeClaim>(kubeConfig, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', path: '/api/v1/persistentvolumeclaims' }, onWatchError),
    namespaces: watchCollection<Namespace>(kubeConfig, { apiVersion: 'v1', kind: 'Namespace', path: '/api/v1/namespaces' }, onWatchError),
    jobs: watchCollection<Job>(kubeConfig, { apiVersion: 'batch/v1', kind: 'Job', path: '/apis/batch/v1/jobs', labelSelector: JOB_SELECTOR }, onWatchError),
  };
  /** The cached copy once synced; until then (the first seconds) a LIST. */
  const cachedOr = <T>(collection: WatchedCollection<T>, list: () => Promise<T[]>) => (collection.synced ? Promise.resolve(collection.items()) : list());
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
    listBackups: () => cachedOr(watched.backups, () => listCustom<PVCBackup>('pvcbackups')),
    listRestores: () => cachedOr(watched.restores, () => listCustom<PVCRestore>('pvcrestores')),
    listPvcs: () => cachedOr(watched.pvcs, async () => wire<PersistentVolumeClaim>((await core.listPersistentVolumeClaimForAllNamespaces()).items)),
    listNamespaces: () => cachedOr(watched.namespaces, async () => wire<Namespace>((await core.listNamespace()).items)),
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
    listJobs: () => cachedOr(watched.jobs, async () => wire<Job>((await batch.listJobForAllNamespaces({ labelSelector: JOB_SELECTOR })).items)),
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
    stop: () => {
      for (const collection of Object.values(watched)) collection.stop();
    },
  };
}

/** In a Pod: its service account; elsewhere: KUBECONFIG or ~/.kube/config. */
export function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
