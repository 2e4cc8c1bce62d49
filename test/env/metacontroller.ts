// The real Metacontroller (built by build-tools.sh from its released source), run out of cluster
// against the local control plane, with its own CRDs from manifests/production/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cacheBinDir, cacheDir } from './controlplane.ts';
import type { KubeRest } from './kube-rest.ts';
import { freePort, logTail, startManaged, waitFor, type Managed } from './processes.ts';

export interface Metacontroller {
  logPath: string;
  managed: Managed;
  /** SIGKILL: no graceful shutdown, like a crashed or evicted Pod. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** metacontroller-crds-v1.yaml as shipped in the release. */
function metacontrollerCrds(): { metadata: { name: string } }[] {
  const file = join(cacheDir(), 'crds', 'metacontroller', 'metacontroller-crds-v1.yaml');
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as { metadata: { name: string } } | null)
    .filter((o): o is { metadata: { name: string } } => o !== null);
}

export async function applyMetacontrollerCrds(kube: KubeRest): Promise<void> {
  for (const crd of metacontrollerCrds()) {
    await kube.createIfAbsent(CRDS, crd);
    await waitFor(`CRD ${crd.metadata.name} to be established`, async () => {
      const live = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`${CRDS}/${crd.metadata.name}`);
      return live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true ? true : undefined;
    });
  }
}

/**
 * The flags docs/install.md recommends, with loopback addresses. `--zap-log-level=4` logs every
 * child create/delete and status write, which the fault scenarios' logs are read for.
 */
export async function startMetacontroller(opts: { kubeconfigPath: string; logPath: string }): Promise<Metacontroller> {
  const healthPort = await freePort();
  const managed = startManaged({
    name: 'metacontroller',
    command: join(cacheBinDir(), 'metacontroller'),
    args: [
      `--kubeconfig=${opts.kubeconfigPath}`,
      '--metrics-address=0',
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      '--discovery-interval=2s',
      // Three writes per backup of a slot (the PVCBackup, the PVC's last-scheduled annotation, the
      // first status): at 50 a slot of 1,000 PVCs took 87 s just to be created (docs/performance.md).
      '--client-go-qps=200',
      '--client-go-burst=400',
      // Sync workers per controller (default 5): at a slot each scheduler sync waits for two API
      // writes, so five workers created about 12 PVCBackups per second.
      '--workers=20',
      '--zap-log-level=4',
    ],
    logPath: opts.logPath,
  });
  await waitFor('Metacontroller to be ready', async () => ((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok ? true : undefined), {
    timeoutMs: 60_000,
    failFast: () => (managed.child.exitCode !== null || managed.child.signalCode !== null ? `exited: ${logTail(opts.logPath)}` : undefined),
  });
  return {
    logPath: opts.logPath,
    managed,
    kill: async () => {
      if (managed.child.pid !== undefined && managed.child.exitCode === null) process.kill(-managed.child.pid, 'SIGKILL');
      await managed.exited;
    },
    stop: () => managed.stop(),
  };
}
