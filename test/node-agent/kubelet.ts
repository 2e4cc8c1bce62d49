// The scheduler's and kubelet's share of the node agent: binds pending Pods to the one node once
// their claims are bound, runs the Pods bound to it, and finishes the deletion of its Pods.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isConflict } from '../env/kube-rest.ts';
import { PodRun, podWorkDir, type PodRunContext } from './pod-run.ts';
import type { ContainerStatus, PersistentVolumeClaim, Pod } from './types.ts';

export interface Kubelet {
  reconcile(): Promise<void>;
  /** Test hook: SIGKILLs the running containers of the Pods whose name starts with `prefix`; how many. */
  crash(namespace: string, prefix: string): number;
  stop(): Promise<void>;
}

const podPath = (pod: Pod): string => `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
const isTerminal = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export function createKubelet(ctx: PodRunContext & { nodeName: string; nodeLabels: Record<string, string> }): Kubelet {
  const { kube, log, nodeName } = ctx;
  const runs = new Map<string, PodRun>();
  const deleting = new Set<string>();
  const unschedulable = new Set<string>();

  /** Like the scheduler: only a node whose labels match, only once every claim is bound. */
  async function schedule(pod: Pod): Promise<void> {
    const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const mismatch = Object.entries(pod.spec.nodeSelector ?? {}).find(([key, value]) => ctx.nodeLabels[key] !== value);
    if (mismatch !== undefined) {
      if (!unschedulable.has(pod.metadata.uid)) log(`pod ${name}: nodeSelector ${mismatch[0]}=${mismatch[1]} does not match node ${nodeName}; not binding`);
      unschedulable.add(pod.metadata.uid);
      return;
    }
    for (const volume of pod.spec.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (claim === undefined) continue;
      const pvc = await kube.get<PersistentVolumeClaim>(`/api/v1/namespaces/${pod.metadata.namespace}/persistentvolumeclaims/${claim}`);
      if (pvc?.status?.phase !== 'Bound') return;
    }
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    try {
      await kube.create(`${podPath(pod)}/binding`, binding);
      log(`pod ${name}: bound to ${nodeName}`);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  /** After an agent restart, containers the API says were started are gone: report them lost. */
  async function reportLost(pod: Pod): Promise<void> {
    const lost = (s: ContainerStatus): ContainerStatus => {
      if (s.state.terminated !== undefined) return s;
      const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const terminated = { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the node agent restarted', startedAt: time, finishedAt: time };
      return { ...s, ready: false, started: false, state: { terminated } };
    };
    const status = pod.status ?? {};
    const patch = {
      status: {
        phase: 'Failed',
        ...(status.initContainerStatuses === undefined ? {} : { initContainerStatuses: status.initContainerStatuses.map(lost) }),
        containerStatuses: (status.containerStatuses ?? []).map(lost),
      },
    };
    await kube.patch(`${podPath(pod)}/status`, patch, 'strategic');
    log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: containers lost, marked Failed`);
  }

  async function finishDeletion(pod: Pod): Promise<void> {
    await runs.get(pod.metadata.uid)?.kill();
    runs.delete(pod.metadata.uid);
    await kube.delete(podPath(pod), { gracePeriodSeconds: 0 });
  }

  async function reconcilePod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    if (!pod.spec.nodeName) {
      if (pod.metadata.deletionTimestamp === undefined) await schedule(pod);
      return;
    }
    if (pod.spec.nodeName !== nodeName) return;
    const run = runs.get(uid);
    if (pod.metadata.deletionTimestamp !== undefined) {
      // Without a kubelet nobody ends the grace period; finalizers (e.g. the Job controller's) may keep it a while.
      if (pod.metadata.deletionGracePeriodSeconds === 0 || deleting.has(uid)) return;
      deleting.add(uid);
      void finishDeletion(pod)
        .catch((error: unknown) => log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: deletion failed: ${String(error)}`))
        .finally(() => deleting.delete(uid));
      return;
    }
    if (isTerminal(pod)) {
      runs.delete(uid);
      return;
    }
    if (run !== undefined) return;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    if (statuses.some((s) => s.state.running !== undefined || s.state.terminated !== undefined)) {
      await reportLost(pod);
      return;
    }
    log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: starting`);
    runs.set(uid, new PodRun(ctx, pod));
  }

  /** Work directories (emptyDirs, container roots) of Pods that no longer exist; logs stay. */
  function removeStaleWorkDirs(present: Set<string>): void {
    let uids: string[];
    try {
      uids = readdirSync(join(ctx.dataDir, 'pods'));
    } catch {
      return;
    }
    for (const uid of uids) if (!present.has(uid) && !runs.has(uid)) rmSync(podWorkDir(ctx.dataDir, uid), { recursive: true, force: true });
  }

  return {
    crash(namespace, prefix) {
      const hit = [...runs.values()].filter((run) => run.podName.namespace === namespace && run.podName.name.startsWith(prefix));
      for (const run of hit) run.crash();
      return hit.length;
    },
    async reconcile() {
      const pods = (await kube.list<Pod>('/api/v1/pods')).items;
      const present = new Set(pods.map((p) => p.metadata.uid));
      for (const pod of pods) {
        try {
          await reconcilePod(pod);
        } catch (error) {
          log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      // Pods deleted outright (grace period 0) by someone else: their processes must not linger.
      for (const [uid, run] of runs) {
        if (present.has(uid)) continue;
        runs.delete(uid);
        void run.kill();
      }
      removeStaleWorkDirs(present);
    },
    async stop() {
      await Promise.all([...runs.values()].map((run) => run.kill(true)));
      runs.clear();
    },
  };
}
