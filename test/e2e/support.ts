// Helpers of the end-to-end scenarios: objects in the local cluster, waits on conditions, and
// comparing volume contents on the CSI driver's disk.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteContext, TestContext } from 'node:test';
import { waitFor } from '../env/processes.ts';
import type { Stack } from './stack.ts';
import type { PVCBackupStatus } from '../../src/schema/pvcbackup.ts';
import type { PVCRestoreStatus } from '../../src/schema/pvcrestore.ts';

export const BACKSNAP = '/apis/backsnap.skyb.it/v1alpha1';

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; annotations?: Record<string, string>; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string }[]; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export type Backup = Obj & { status?: PVCBackupStatus };
export type Restore = Obj & { status?: PVCRestoreStatus };

export async function createNamespace(stack: Stack, name: string, annotations: Record<string, string> = {}): Promise<void> {
  await stack.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } });
}

/** A PVC (of the CSI driver's default StorageClass unless told), once it is bound; returns its PV name. */
export async function createPvc(stack: Stack, namespace: string, name: string, options: { size?: string; annotations?: Record<string, string>; storageClass?: string } = {}): Promise<string> {
  await stack.kube.create(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace, annotations: options.annotations ?? {} },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: options.size ?? '1Gi' } },
      ...(options.storageClass === undefined ? {} : { storageClassName: options.storageClass }),
    },
  });
  return waitFor(`PVC ${namespace}/${name} to be bound`, async () => {
    const pvc = await stack.kube.get<{ spec: { volumeName?: string }; status?: { phase?: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`);
    return pvc?.status?.phase === 'Bound' ? pvc.spec.volumeName : undefined;
  }, { timeoutMs: 30_000 });
}

export async function pvName(stack: Stack, namespace: string, pvc: string): Promise<string> {
  const claim = await stack.kube.get<{ spec: { volumeName?: string } }>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${pvc}`);
  const name = claim?.spec.volumeName;
  if (name === undefined) throw new Error(`PVC ${namespace}/${pvc} is not bound`);
  return name;
}

/** The host directory of a bound PVC's data: the CSI driver's directory of its PV's volume handle. */
export async function volumeDir(stack: Stack, namespace: string, pvc: string): Promise<string> {
  const pv = await stack.kube.get<{ spec: { csi?: { volumeHandle: string } } }>(`/api/v1/persistentvolumes/${await pvName(stack, namespace, pvc)}`);
  const handle = pv?.spec.csi?.volumeHandle;
  if (handle === undefined) throw new Error(`the volume of PVC ${namespace}/${pvc} is not a CSI volume`);
  return stack.controlPlane.csi.volumePath(handle);
}

/** Runs a shell script in a Job with the PVC at /data and waits for it to complete. */
export async function runInVolume(stack: Stack, namespace: string, pvc: string, name: string, script: string, timeoutMs = 120_000): Promise<void> {
  await stack.kube.create(`/apis/batch/v1/namespaces/${namespace}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: pvc } }],
        },
      },
    },
  });
  await waitFor(`Job ${namespace}/${name} to complete`, async () => {
    const job = await stack.kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
    const conditions = job?.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) throw new Error(`Job ${name} failed: ${stack.agent.podLog(namespace, name)}`);
    return conditions.some((c) => c.type === 'Complete' && c.status === 'True') ? true : undefined;
  }, { timeoutMs, intervalMs: 500 });
}

export async function createBackup(stack: Stack, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await stack.kube.create(`${BACKSNAP}/namespaces/${namespace}/pvcbackups`, { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name, namespace }, spec });
}

export async function createRestore(stack: Stack, namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await stack.kube.create(`${BACKSNAP}/namespaces/${namespace}/pvcrestores`, { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCRestore', metadata: { name, namespace }, spec });
}

export function getBackup(stack: Stack, namespace: string, name: string): Promise<Backup | undefined> {
  return stack.kube.get<Backup>(`${BACKSNAP}/namespaces/${namespace}/pvcbackups/${name}`);
}

export async function listBackups(stack: Stack, namespace: string): Promise<Backup[]> {
  return (await stack.kube.list<Backup>(`${BACKSNAP}/namespaces/${namespace}/pvcbackups`)).items;
}

/** Waits until the run has a result and returns it; `timeoutMs` bounds how long nothing may hang. */
export async function finished<T extends Backup | Restore>(stack: Stack, namespace: string, plural: 'pvcbackups' | 'pvcrestores', name: string, timeoutMs = 180_000): Promise<T> {
  let last: T | undefined;
  try {
    return await waitFor(`${plural} ${namespace}/${name} to finish`, async () => {
      last = await stack.kube.get<T>(`${BACKSNAP}/namespaces/${namespace}/${plural}/${name}`);
      return last?.status?.result !== undefined ? last : undefined;
    }, { timeoutMs, intervalMs: 500 });
  } catch (error) {
    // Where the run stood is what a timeout in CI needs to be understood (its logs are gone).
    const seen = last === undefined ? 'never seen' : `last seen: ${JSON.stringify({ labels: last.metadata.labels, status: last.status })}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}; ${seen}`, { cause: error });
  }
}

export async function listNames(stack: Stack, path: string): Promise<string[]> {
  return (await stack.kube.list<Obj>(path)).items.map((o) => o.metadata.name).sort();
}

/** Everything a restore must bring back: type, mode, owner, size, content hash, link target. */
export function volumeManifest(root: string): Record<string, string> {
  const manifest: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir).sort()) {
      if (prefix === '' && entry === 'lost+found') continue;
      const path = join(dir, entry);
      const rel = `${prefix}${entry}`;
      const st = lstatSync(path);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) manifest[rel] = `link -> ${readlinkSync(path)}`;
      else if (st.isDirectory()) {
        manifest[rel] = `dir ${mode} ${st.uid}:${st.gid}`;
        walk(path, `${rel}/`);
      } else {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        manifest[rel] = `file ${mode} ${st.uid}:${st.gid} ${st.size} ${hash}`;
      }
    }
  };
  walk(root, '');
  return manifest;
}

/** The end of every e2e file: the exactly-once audit must pass, and the stack stops either way. */
export async function verifyAndStop(stack: Stack | undefined): Promise<void> {
  if (stack === undefined) return;
  try {
    await stack.verify();
  } catch (error) {
    stack.keepLogs();
    throw error;
  } finally {
    await stack.stop();
  }
}

/** For afterEach: a failed test keeps the stack's logs (stack.ts, keepLogs). */
export function keepLogsOfFailures(stack: () => Stack | undefined): (t: SuiteContext | TestContext) => void {
  // `passed` (Node 21.7+) is not in @types/node's TestContext yet.
  return (t) => {
    if ('passed' in t && t.passed === false) stack()?.keepLogs();
  };
}

interface JobState {
  metadata: { uid: string; creationTimestamp: string };
  status?: { completionTime?: string; conditions?: { type: string; status: string }[] };
}

/** Waits until the Job exists (and, with `finishedToo`, has completed or failed). */
export async function waitForJob(stack: Stack, namespace: string, name: string, finishedToo = false, timeoutMs = 120_000): Promise<JobState> {
  return waitFor(`Job ${namespace}/${name}${finishedToo ? ' to finish' : ' to exist'}`, async () => {
    const job = await stack.kube.get<JobState>(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
    if (job === undefined) return undefined;
    if (!finishedToo) return job;
    return job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') === true ? job : undefined;
  }, { timeoutMs, intervalMs: 250 });
}

/** A scenario's own clock: resolves once `ms` have passed since `since` (an outage's length). */
export async function until(since: number, ms: number): Promise<void> {
  const left = since + ms - Date.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}
