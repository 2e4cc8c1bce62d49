// The node agent: a test stand-in for kubelet, scheduler, CSI driver and snapshot controller on a
// machine without container runtime. See kubelet.ts, provisioner.ts and snapshotter.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KubeRest, type Watching } from '../env/kube-rest.ts';
import { createKubelet } from './kubelet.ts';
import { startLoop, type Loop } from './loop.ts';
import { heartbeat, NODE_NAME, nodeLabels, registerNode } from './node.ts';
import { createProvisioner } from './provisioner.ts';
import { createSnapshotter } from './snapshotter.ts';

export interface NodeAgentOptions {
  kubeconfigPath: string;
  dataDir: string;
  /** Root file systems of the images it runs (test/env/build-images.sh). */
  imagesDir: string;
  nodeName?: string;
  log?: (line: string) => void;
}

export interface NodeAgent {
  nodeName: string;
  /** The host directory holding a PV's data. */
  volumeDir(pvName: string): string;
  /** The host directory holding a VolumeSnapshot's data. */
  snapshotDir(snapshotUid: string): string;
  /** Output of the newest Pod of that name: one container's, or all containers' (with headers). */
  podLog(namespace: string, name: string, container?: string): string;
  /** SIGKILLs the containers of running Pods whose name starts with `prefix` (an OOM kill, a node crash); how many. */
  crashPods(namespace: string, prefix: string): number;
  stop(): Promise<void>;
}

export { NODE_NAME } from './node.ts';
export { DRIVER } from './provisioner.ts';
export { STALL_ANNOTATION } from './snapshotter.ts';

const HEARTBEAT_MS = 10_000;

function readPodLog(dataDir: string, namespace: string, name: string, container?: string): string {
  const logs = join(dataDir, 'logs');
  if (!existsSync(logs)) return '';
  const dirs = readdirSync(logs)
    .filter((d) => d.startsWith(`${namespace}_${name}_`))
    .map((d) => join(logs, d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const newest = dirs[0];
  if (newest === undefined) return '';
  if (container !== undefined) {
    const file = join(newest, `${container}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
  const files = readdirSync(newest).filter((f) => f.endsWith('.log'));
  if (files.length === 1 && files[0] !== undefined) return readFileSync(join(newest, files[0]), 'utf8');
  return files.map((f) => `==> ${f.slice(0, -4)} <==\n${readFileSync(join(newest, f), 'utf8')}`).join('\n');
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const log = opts.log ?? ((line: string) => console.error(`[node-agent] ${line}`));
  const nodeName = opts.nodeName ?? NODE_NAME;
  const { dataDir, imagesDir } = opts;
  const volumeDir = (pvName: string): string => join(dataDir, 'volumes', pvName);
  const snapshotDir = (uid: string): string => join(dataDir, 'snapshots', uid);
  const kube = await KubeRest.fromKubeconfig(opts.kubeconfigPath);
  await registerNode(kube, nodeName);
  const beat = setInterval(() => {
    heartbeat(kube, nodeName).catch((error: unknown) => log(`node heartbeat failed: ${String(error)}`));
  }, HEARTBEAT_MS);

  const kubelet = createKubelet({ kube, dataDir, imagesDir, log, nodeName, nodeLabels: nodeLabels(nodeName) });
  const provisioner = createProvisioner({ kube, dataDir, log, volumeDir, snapshotDir });
  const snapshotter = createSnapshotter({ kube, dataDir, log, snapshotDir });
  const pods = startLoop('pods', () => kubelet.reconcile(), log);
  const volumes = startLoop('volumes', () => provisioner.reconcile(), log);
  const snapshots = startLoop('snapshots', () => snapshotter.reconcile(), log);

  const watch = (path: string, loops: Loop[]): Watching => {
    let lastError = '';
    return kube.watch(
      path,
      () => {
        lastError = '';
        for (const loop of loops) loop.kick();
      },
      (error) => {
        if (error.message !== lastError) log(`watch ${path}: ${error.message}`);
        lastError = error.message;
      },
    );
  };
  const watches = [
    watch('/api/v1/pods', [pods]),
    watch('/api/v1/persistentvolumeclaims', [pods, volumes, snapshots]),
    watch('/api/v1/persistentvolumes', [pods, volumes]),
    watch('/apis/snapshot.storage.k8s.io/v1/volumesnapshots', [snapshots, volumes]),
  ];
  log(`node ${nodeName} registered; data in ${dataDir}`);

  return {
    nodeName,
    volumeDir,
    snapshotDir,
    podLog: (namespace, name, container) => readPodLog(dataDir, namespace, name, container),
    crashPods: (namespace, prefix) => kubelet.crash(namespace, prefix),
    async stop() {
      clearInterval(beat);
      for (const w of watches) w.stop();
      await Promise.all([pods.stop(), volumes.stop(), snapshots.stop()]);
      await kubelet.stop();
    },
  };
}
