// The only place that talks to the API server (for housekeeping, metrics, the nudge and the debug
// view; hooks never do). Behind an interface so the HTTP routes are tested with an in-memory
// cluster. Reads come from watch-fed caches (watch-cache.ts) once they are synced, so a scrape or a
// tick costs no API request; writes go to the API server.
import { MANAGED_BY } from '../labels.ts';
import { defaultAccess, type KubeAccess } from './access.ts';
import { KubeApiError, kubeClient, listAll, type KubeClient } from './rest.ts';
import { watchCollection, type CollectionSource, type WatchedCollection } from './watch-cache.ts';
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
  return error instanceof KubeApiError && codes.includes(error.status);
}

const JOB_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY['app.kubernetes.io/managed-by']}`;
const CUSTOM = `/apis/${GROUP}/${VERSION}`;
const pluralOf = (kind: 'PVCBackup' | 'PVCRestore') => (kind === 'PVCBackup' ? 'pvcbackups' : 'pvcrestores');
const runPath = (kind: 'PVCBackup' | 'PVCRestore', namespace: string, name?: string) =>
  `${CUSTOM}/namespaces/${encodeURIComponent(namespace)}/${pluralOf(kind)}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export interface KubernetesCluster extends Cluster {
  /** Stops the watches. */
  stop(): void;
}

/** `access` is resolved on first use (defaultAccess: the service account or a kubeconfig). */
export function kubernetesCluster(access: Promise<KubeAccess> = defaultAccess(), onWatchError: (error: unknown) => void = () => {}): KubernetesCluster {
  const client = lazyClient(access);
  const sources = {
    backups: { path: `${CUSTOM}/pvcbackups` },
    restores: { path: `${CUSTOM}/pvcrestores` },
    pvcs: { path: '/api/v1/persistentvolumeclaims' },
    namespaces: { path: '/api/v1/namespaces' },
    jobs: { path: '/apis/batch/v1/jobs', labelSelector: JOB_SELECTOR },
  } satisfies Record<string, CollectionSource>;
  const watched = {
    backups: watchCollection<PVCBackup>(client, sources.backups, onWatchError),
    restores: watchCollection<PVCRestore>(client, sources.restores, onWatchError),
    pvcs: watchCollection<PersistentVolumeClaim>(client, sources.pvcs, onWatchError),
    namespaces: watchCollection<Namespace>(client, sources.namespaces, onWatchError),
    jobs: watchCollection<Job>(client, sources.jobs, onWatchError),
  };
  /** The cached copy once synced; until then (the first seconds) a LIST. */
  const cachedOr = async <T>(collection: WatchedCollection<T>, source: CollectionSource): Promise<T[]> =>
    collection.synced ? collection.items() : (await listAll<T>(client, source.path, source.labelSelector)).items;
  const deleteRun = async (kind: 'PVCBackup' | 'PVCRestore', ref: ObjectRef): Promise<boolean> => {
    try {
      const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: ref.uid } };
      await client.request('DELETE', runPath(kind, ref.namespace, ref.name), { body });
      return true;
    } catch (error) {
      if (isStatus(error, 404, 409)) return false;
      throw error;
    }
  };
  return {
    listBackups: () => cachedOr(watched.backups, sources.backups),
    listRestores: () => cachedOr(watched.restores, sources.restores),
    listPvcs: () => cachedOr(watched.pvcs, sources.pvcs),
    listNamespaces: () => cachedOr(watched.namespaces, sources.namespaces),
    deleteBackup: (ref) => deleteRun('PVCBackup', ref),
    deleteRestore: (ref) => deleteRun('PVCRestore', ref),
    createBackup: async (backup) => {
      try {
        await client.request('POST', runPath('PVCBackup', backup.metadata.namespace ?? ''), { body: backup });
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    },
    listJobs: () => cachedOr(watched.jobs, sources.jobs),
    annotateRun: async (kind, ref, annotations) => {
      try {
        // The UID guards against touching a newer object of the same name.
        const body = { metadata: { uid: ref.uid, annotations } };
        await client.request('PATCH', runPath(kind, ref.namespace, ref.name), { body, contentType: 'application/merge-patch+json' });
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

/** A client whose access is awaited on each call, so a bad kubeconfig fails the calls, not the start. */
function lazyClient(access: Promise<KubeAccess>): KubeClient {
  const client = access.then(kubeClient);
  // Reported by the calls that await it.
  client.catch(() => {});
  return {
    request: async (method, path, options) => (await client).request(method, path, options),
    watch: async (path, query, onEvent, signal) => (await client).watch(path, query, onEvent, signal),
  };
}
