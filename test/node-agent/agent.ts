// The node agent: a test stand-in for kubelet and the scheduler on a machine without container
// runtime (kubelet.ts). Volumes come from the real CSI driver, which it mounts for Pods through
// the driver's node service (csi-mounts.ts).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KubeRest, type Watching } from '../env/kube-rest.ts';
import { createKubelet } from './kubelet.ts';
import { startLoop, type Loop } from './loop.ts';
import { heartbeat, NODE_NAME, nodeLabels, registerNode } from './node.ts';
import { createCsiMounts } from './csi-mounts.ts';

export interface NodeAgentOptions {
  kubeconfigPath: string;
  dataDir: string;
  /** Root file systems of the images it runs (test/env/build-images.sh). */
  imagesDir: string;
  /** The CSI driver's socket (its node service). */
  csiSocket: string;
  nodeName?: string;
  log?: (line: string) => void;
}

export interface NodeAgent {
  nodeName: string;
  /** Output of the newest Pod of that name: one container's, or all containers' (with headers). */
  podLog(namespace: string, name: string, container?: string): string;
  /** SIGKILLs the containers of running Pods whose name starts with `prefix` (an OOM kill, a node crash); how many. */
  crashPods(namespace: string, prefix: string): number;
  stop(): Promise<void>;
}

export { NODE_NAME } from './node.ts';

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
  const kube = await KubeRest.fromKubeconfig(opts.kubeconfigPath);
  await registerNode(kube, nodeName);
  const beat = setInterval(() => {
    heartbeat(kube, nodeName).catch((error: unknown) => log(`node heartbeat failed: ${String(error)}`));
  }, HEARTBEAT_MS);

  const csi = createCsiMounts(opts.csiSocket, dataDir, log);
  await csi.sweep();
  const kubelet = createKubelet({ kube, dataDir, imagesDir, csi, log, nodeName, nodeLabels: nodeLabels(nodeName) });
  const pods = startLoop('pods', () => kubelet.reconcile(), log);

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
  // Pods wait for their claims to be bound: claim changes wake them.
  const watches = [watch('/api/v1/pods', [pods]), watch('/api/v1/persistentvolumeclaims', [pods])];
  log(`node ${nodeName} registered; data in ${dataDir}`);

  return {
    nodeName,
    podLog: (namespace, name, container) => readPodLog(dataDir, namespace, name, container),
    crashPods: (namespace, prefix) => kubelet.crash(namespace, prefix),
    async stop() {
      clearInterval(beat);
      for (const w of watches) w.stop();
      await pods.stop();
      await kubelet.stop();
    },
  };
}
