// The local control plane of end-to-end tests: real etcd, kube-apiserver and kube-controller-manager
// on loopback ports, built by build-tools.sh, plus the VolumeSnapshot CRDs, the real CSI hostpath
// driver with its sidecars (csi.ts) and the driver's default StorageClass and VolumeSnapshotClass.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { NODE_NAME } from '../node-agent/node.ts';
import { applyCsiClasses, startCsi, type Csi } from './csi.ts';
import { KubeRest } from './kube-rest.ts';
import { freePort, logTail, startManaged, waitFor, type Managed } from './processes.ts';

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a system:masters user. */
  token: string;
  kubeconfigPath: string;
  binDir: string;
  /** The CSI driver (on the node agent's node) and its sidecars. */
  csi: Csi;
  stop(): Promise<void>;
}

/** Where build-tools.sh puts its artifacts (keep in sync with its `cache=` line). */
export function cacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  return process.env['BACKSNAP_CACHE'] ?? join(base, 'backsnap-ts');
}

export function cacheBinDir(): string {
  return join(cacheDir(), 'bin');
}

/** Root file systems of the container images the node agent runs (build-images.sh). */
export function cacheImagesDir(): string {
  return join(cacheDir(), 'images');
}

/** Fails with the process's log if it has exited, so waits end early with the actual cause. */
function exitedWith(processes: Managed[]): () => string | undefined {
  return () => {
    for (const p of processes) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) {
        return `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}); log ${p.logPath}:\n${logTail(p.logPath)}`;
      }
    }
    return undefined;
  };
}

/** True once GET url answers 2xx with a body; the servers' certificates are self-signed. */
function httpOk(url: string, token?: string): Promise<true | undefined> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve((res.statusCode ?? 0) < 300 && body.trim() !== '' ? true : undefined));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function writeKubeconfig(path: string, server: string, token: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'backsnap-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'backsnap-test', context: { cluster: 'backsnap-test', user: 'admin' } }],
    'current-context': 'backsnap-test',
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

async function installSnapshotCrds(kube: KubeRest): Promise<void> {
  const dir = join(cacheDir(), 'crds', 'external-snapshotter');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  } catch {
    throw new Error(`VolumeSnapshot CRDs missing in ${dir}: run test/env/build-tools.sh`);
  }
  interface Crd {
    metadata: { name: string };
    spec: { group: string; names: { plural: string }; versions: { name: string; storage: boolean }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }
  const crds: Crd[] = [];
  for (const file of files) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as Crd;
    crds.push(crd);
    await kube.createIfAbsent('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  }
  for (const crd of crds) {
    const name = crd.metadata.name;
    await waitFor(`CRD ${name} established`, async () => {
      const stored = await kube.get<Crd>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      return stored?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
    // Established comes before the resource's storage is initialized (429 until then); tests
    // must not see that.
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? 'v1';
    await waitFor(`${name} listable`, () => kube.list(`/apis/${crd.spec.group}/${version}/${crd.spec.names.plural}?limit=1`));
  }
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager with their data and logs in `dir`. The
 * processes do not keep Node's event loop alive, and they are killed when the Node process exits
 * (also on SIGINT/SIGTERM, and by the kernel if it is SIGKILLed): call stop() to end them earlier.
 */
export async function startControlPlane(opts: { dir: string; log?: (line: string) => void }): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const binDir = cacheBinDir();
  const dir = opts.dir;
  mkdirSync(dir, { recursive: true });
  const started: Managed[] = [];
  let csi: Csi | undefined;
  const stop = async (): Promise<void> => {
    // Reverse order: CSI and controllers first, etcd last, so nothing logs errors about a vanished backend.
    await csi?.stop();
    for (const p of [...started].reverse()) await p.stop();
  };
  const start = (name: string, args: string[]): Managed => {
    const p = startManaged({ name, command: join(binDir, name), args, logPath: join(dir, `${name}.log`) });
    started.push(p);
    log(`started ${name} (pid ${p.child.pid}, log ${p.logPath})`);
    return p;
  };
  const t0 = Date.now();
  try {
    const [etcdPort, peerPort, apiPort, kcmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    start('etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // Test data need not survive a crash; fsync dominates etcd's latency on small disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);

    const token = randomBytes(24).toString('hex');
    const tokensFile = join(dir, 'tokens.csv');
    writeFileSync(tokensFile, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const saPublic = join(dir, 'service-account.pub');
    const saPrivate = join(dir, 'service-account.key');
    writeFileSync(saPublic, keys.publicKey);
    writeFileSync(saPrivate, keys.privateKey, { mode: 0o600 });
    await waitFor('etcd health', () => httpOk(`${etcdUrl}/health`), { failFast: exitedWith(started) });

    const server = `https://127.0.0.1:${apiPort}`;
    start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--token-auth-file=${tokensFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPublic}`,
      `--service-account-signing-key-file=${saPrivate}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // Its projected token volume needs a kubelet; the node agent cannot mount one.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ]);
    await waitFor('kube-apiserver /readyz', () => httpOk(`${server}/readyz`, token), {
      timeoutMs: 90_000,
      failFast: exitedWith(started),
    });
    log(`kube-apiserver ready at ${server} after ${Date.now() - t0} ms`);

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, server, token);
    const kube = await KubeRest.fromKubeconfig(kubeconfigPath);

    start('kube-controller-manager', [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(dir, 'controller-manager-certs')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=false',
      '--controllers=garbage-collector-controller,namespace-controller,job-controller,' +
        'persistentvolume-binder-controller,persistentvolumeclaim-protection-controller,' +
        'persistentvolume-protection-controller,serviceaccount-controller,ttl-after-finished-controller',
      // Binding retries follow this period; the default 15 s would make tests wait.
      '--pvclaimbinder-sync-period=1s',
    ]);
    const crds = installSnapshotCrds(kube).then(() => applyCsiClasses(kube));
    await waitFor('kube-controller-manager /healthz', () => httpOk(`https://127.0.0.1:${kcmPort}/healthz`), {
      timeoutMs: 60_000,
      failFast: exitedWith(started),
    });
    await crds;
    // The serviceaccount controller creating `default` proves the controllers are running.
    await waitFor('ServiceAccount default/default', () => kube.get('/api/v1/namespaces/default/serviceaccounts/default'), {
      timeoutMs: 60_000,
      failFast: exitedWith(started),
    });
    csi = await startCsi({ kubeconfigPath, dir: join(dir, 'csi'), nodeName: NODE_NAME, binDir, log });
    log(`control plane ready after ${Date.now() - t0} ms`);
    return { server, token, kubeconfigPath, binDir, csi, stop };
  } catch (error) {
    await stop();
    const logs = started.map((p) => p.logPath).join(', ');
    throw new Error(`control plane failed to start (logs: ${logs}): ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
