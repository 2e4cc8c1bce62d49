// An in-memory Cluster for route tests of housekeeping and the debug view.
import type { Cluster, ClusterState, ObjectRef } from '../../src/kube/cluster.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { Job } from '../../src/kube/types.ts';
import type { PVCRestore } from '../../src/restore/types.ts';

export function memoryCluster(state: ClusterState, jobs: Job[] = []): Cluster & { state: ClusterState; annotated: string[] } {
  const annotated: string[] = [];
  const remove = <T extends { metadata: { namespace?: string; name: string; uid?: string } }>(list: T[], ref: ObjectRef): boolean => {
    const index = list.findIndex((o) => o.metadata.namespace === ref.namespace && o.metadata.name === ref.name && o.metadata.uid === ref.uid);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  };
  return {
    state,
    annotated,
    listBackups: async () => [...state.backups],
    listRestores: async () => [...state.restores],
    listPvcs: async () => [...state.pvcs],
    listNamespaces: async () => [...state.namespaces],
    deleteBackup: async (ref) => remove(state.backups, ref),
    deleteRestore: async (ref) => remove(state.restores, ref),
    createBackup: async (backup: PVCBackup) => {
      if (state.backups.some((b) => b.metadata.namespace === backup.metadata.namespace && b.metadata.name === backup.metadata.name)) return false;
      state.backups.push({ ...backup, metadata: { ...backup.metadata, uid: `uid-${backup.metadata.name}` } });
      return true;
    },
    listJobs: async () => [...jobs],
    annotateRun: async (kind, ref, annotations) => {
      const list: (PVCBackup | PVCRestore)[] = kind === 'PVCBackup' ? state.backups : state.restores;
      const run = list.find((o) => o.metadata.uid === ref.uid);
      if (run === undefined) return false;
      run.metadata.annotations = { ...run.metadata.annotations, ...annotations };
      annotated.push(`${kind} ${ref.namespace}/${ref.name}`);
      return true;
    },
  };
}
