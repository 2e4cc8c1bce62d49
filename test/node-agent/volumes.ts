// A Pod's volumes as host paths: a PVC's CSI volume is published by its driver (csi-mounts.ts), a
// hostPath or local PV is its directory, everything else a per-Pod directory (emptyDir empty,
// secret and configMap filled with their keys like kubelet does).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeRest } from '../env/kube-rest.ts';
import type { CsiMounts } from './csi-mounts.ts';
import type { ObjectReader } from './env.ts';
import type { KeyToPath, PersistentVolume, PersistentVolumeClaim, Pod, Volume } from './types.ts';

export interface HostVolume {
  path: string;
  readOnly: boolean;
}

/** The PV of a bound PVC; throws while the claim is not bound. */
async function claimVolume(kube: KubeRest, namespace: string, claimName: string): Promise<PersistentVolume> {
  const pvc = await kube.get<PersistentVolumeClaim>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`);
  if (pvc === undefined) throw new Error(`persistentvolumeclaim "${claimName}" not found`);
  const pvName = pvc.spec.volumeName;
  if (pvc.status?.phase !== 'Bound' || pvName === undefined) throw new Error(`persistentvolumeclaim "${claimName}" is not bound`);
  const pv = await kube.get<PersistentVolume>(`/api/v1/persistentvolumes/${pvName}`);
  if (pv === undefined) throw new Error(`persistentvolume "${pvName}" not found`);
  return pv;
}

function writeKeys(dir: string, data: Record<string, string>, items: KeyToPath[] | undefined, defaultMode: number | undefined): void {
  const selected: KeyToPath[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of selected) {
    const value = data[item.key];
    if (value === undefined) throw new Error(`key ${item.key} not found`);
    const file = join(dir, item.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, value, { mode: item.mode ?? defaultMode ?? 0o644 });
  }
}

export interface VolumeContext {
  kube: KubeRest;
  csi: CsiMounts;
  objects: ObjectReader;
  log: (line: string) => void;
}

async function hostVolume(ctx: VolumeContext, pod: Pod, volume: Volume, podDir: string): Promise<HostVolume> {
  const { objects, log } = ctx;
  const namespace = pod.metadata.namespace ?? 'default';
  if (volume.persistentVolumeClaim !== undefined) {
    const claim = volume.persistentVolumeClaim;
    const readOnly = claim.readOnly === true;
    const pv = await claimVolume(ctx.kube, namespace, claim.claimName);
    if (pv.spec.csi !== undefined) return { path: await ctx.csi.publish(pod.metadata.uid, pv, readOnly), readOnly };
    const path = pv.spec.hostPath?.path ?? pv.spec.local?.path;
    if (path === undefined) throw new Error(`persistentvolume "${pv.metadata.name}" is neither CSI nor hostPath nor local`);
    return { path, readOnly };
  }
  if (volume.hostPath !== undefined) return { path: volume.hostPath.path, readOnly: false };
  const dir = join(podDir, 'volumes', volume.name);
  // Written afresh at each Pod start, as kubelet would project the current data.
  mkdirSync(dir, { recursive: true, mode: 0o777 });
  if (volume.secret !== undefined) {
    const source = volume.secret;
    writeKeys(dir, await objects.required('Secret', source.secretName, source.optional), source.items, source.defaultMode);
    return { path: dir, readOnly: true };
  }
  if (volume.configMap !== undefined) {
    const source = volume.configMap;
    writeKeys(dir, await objects.required('ConfigMap', source.name, source.optional), source.items, source.defaultMode);
    return { path: dir, readOnly: true };
  }
  if (volume.emptyDir === undefined) log(`pod ${namespace}/${pod.metadata.name}: volume ${volume.name} has an unsupported type; using an empty directory`);
  return { path: dir, readOnly: false };
}

export async function podVolumes(ctx: VolumeContext, pod: Pod, podDir: string): Promise<Map<string, HostVolume>> {
  const volumes = new Map<string, HostVolume>();
  for (const volume of pod.spec.volumes ?? []) volumes.set(volume.name, await hostVolume(ctx, pod, volume, podDir));
  return volumes;
}
