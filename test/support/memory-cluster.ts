// An in-memory Cluster for route tests of housekeeping and the debug view.
import type { Cluster, ClusterState, ObjectRef } from '../../src/kube/cluster.ts';
import type { PVCBackup } from '../../src/backup/types.ts';

export function memoryCluster(state: ClusterState): Cluster & { state: ClusterState } {
  const remove = <T extends { metadata: { namespace?: string; name: string; uid?: string } }>(list: T[], ref: ObjectRef): boolean => {
    const index = list.findIndex((o) => o.metadata.namespace === ref.namespace && o.metadata.name === ref.name && o.metadata.uid === ref.uid);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  };
  return {
    state,
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
  };
}
