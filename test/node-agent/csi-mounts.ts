// kubelet's CSI volume manager, narrowed to one node: a Pod's CSI volume is staged once per node
// (NodeStageVolume on a global path) and published per Pod (NodePublishVolume on a Pod's target),
// through the driver's socket; when the Pod's containers have ended it is unpublished, and
// unstaged once no Pod on the node uses it. The driver refuses to delete a volume that is still
// staged or published, so nothing may be left behind: targets are named after Pod and volume, and
// the agent unpublishes and unstages whatever an earlier agent left on start.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CsiError, csiNodeClient, type CsiNodeClient } from '../env/csi.ts';
import type { PersistentVolume } from './types.ts';

export interface CsiMounts {
  /** Stages (once) and publishes the volume for the Pod; the host path its containers bind-mount. */
  publish(podUid: string, pv: PersistentVolume, readOnly: boolean): Promise<string>;
  /** Unpublishes every volume of the Pod, and unstages those no other Pod uses. */
  release(podUid: string): Promise<void>;
  /** Releases what an earlier agent on this data directory left published or staged. */
  sweep(): Promise<void>;
}

// csi.v1 VolumeCapability.AccessMode.Mode by PV access mode, as kubelet maps them: SINGLE_NODE_WRITER,
// MULTI_NODE_READER_ONLY, MULTI_NODE_MULTI_WRITER, SINGLE_NODE_SINGLE_WRITER.
const ACCESS_MODES: Record<string, number> = { ReadWriteOnce: 1, ReadOnlyMany: 3, ReadWriteMany: 5, ReadWriteOncePod: 6 };

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** NOT_FOUND on unpublish/unstage means there is nothing left to undo. */
const gone = (error: unknown): boolean => error instanceof CsiError && error.code === 5;

export function createCsiMounts(socketPath: string, dataDir: string, log: (line: string) => void): CsiMounts {
  const client: CsiNodeClient = csiNodeClient(socketPath);
  const stagingPath = (volumeId: string): string => join(dataDir, 'csi', 'staging', volumeId);
  const targetPath = (podUid: string, volumeId: string): string => join(dataDir, 'csi', 'publish', podUid, volumeId);
  /** volume id → the Pods it is published for. */
  const users = new Map<string, Set<string>>();

  const unpublish = async (podUid: string, volumeId: string): Promise<void> => {
    await client.unpublish(volumeId, targetPath(podUid, volumeId)).catch((error: unknown) => {
      if (!gone(error)) throw error;
    });
  };
  const unstage = async (volumeId: string): Promise<void> => {
    await client.unstage(volumeId, stagingPath(volumeId)).catch((error: unknown) => {
      if (!gone(error)) throw error;
    });
  };

  return {
    async publish(podUid, pv, readOnly) {
      const csi = pv.spec.csi;
      if (csi === undefined) throw new Error(`persistentvolume "${pv.metadata.name}" is not a CSI volume`);
      const volumeId = csi.volumeHandle;
      const common = {
        volumeId,
        ...(csi.volumeAttributes === undefined ? {} : { volumeContext: csi.volumeAttributes }),
        ...(csi.fsType === undefined ? {} : { fsType: csi.fsType }),
        accessMode: ACCESS_MODES[pv.spec.accessModes?.[0] ?? 'ReadWriteOnce'] ?? 1,
      };
      mkdirSync(stagingPath(volumeId), { recursive: true });
      await client.stage({ ...common, stagingTargetPath: stagingPath(volumeId) });
      const target = targetPath(podUid, volumeId);
      // The driver creates the target itself (and removes it on unpublish); its parent must exist.
      mkdirSync(join(target, '..'), { recursive: true });
      await client.publish({ ...common, stagingTargetPath: stagingPath(volumeId), targetPath: target, readonly: readOnly || csi.readOnly === true });
      users.set(volumeId, (users.get(volumeId) ?? new Set()).add(podUid));
      return target;
    },
    async release(podUid) {
      for (const [volumeId, pods] of users) {
        if (!pods.has(podUid)) continue;
        try {
          await unpublish(podUid, volumeId);
          pods.delete(podUid);
          if (pods.size === 0) {
            users.delete(volumeId);
            await unstage(volumeId);
          }
        } catch (error) {
          log(`pod ${podUid}: releasing CSI volume ${volumeId} failed: ${String(error)}`);
        }
      }
    },
    async sweep() {
      for (const podUid of list(join(dataDir, 'csi', 'publish'))) {
        for (const volumeId of list(join(dataDir, 'csi', 'publish', podUid))) {
          await unpublish(podUid, volumeId).catch((error: unknown) => log(`unpublishing ${volumeId} left by pod ${podUid} failed: ${String(error)}`));
        }
      }
      for (const volumeId of list(join(dataDir, 'csi', 'staging'))) {
        await unstage(volumeId).catch((error: unknown) => log(`unstaging ${volumeId} failed: ${String(error)}`));
      }
    },
  };
}
