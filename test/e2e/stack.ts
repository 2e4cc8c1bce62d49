// Everything the end-to-end tests and the sandbox run on, on loopback: the local control plane,
// MinIO, the node agent stand-in, the real Metacontroller, and the hook service started with
// the configuration names that deploy/ ships (deploy/backsnap.env), so what is shipped is tested.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { cacheImagesDir, startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { KubeRest } from '../env/kube-rest.ts';
import { startMinio, type Minio } from '../env/minio.ts';
import { freePort, logTail, startManaged, waitFor, type Managed } from '../env/processes.ts';
import { startNodeAgent, type NodeAgent } from '../node-agent/agent.ts';
import { applyMetacontrollerCrds, startMetacontroller, type Metacontroller } from '../env/metacontroller.ts';
import { namespacePassword } from '../../src/restic/credentials.ts';
import { startAudit, type Audit, type AuditReport, type Repository } from './audit.ts';
import { findLeaks } from './leaks.ts';

const BACKSNAP = '/apis/backsnap.skyb.it/v1alpha1';

const ROOT = new URL('../../', import.meta.url).pathname;
export const RESTIC_PASSWORD = `e2e-restic-password-${randomBytes(6).toString('hex')}`;
export const HOUSEKEEPING_TOKEN = `e2e-housekeeping-token-${randomBytes(6).toString('hex')}`;
/** Where deploy/ puts the service and its credentials (metacontroller/*.yaml read the hook token there). */
export const OPERATOR_NAMESPACE = 'backsnap';
export const CREDENTIALS_SECRET = 'backsnap-credentials';

export interface HookService {
  /** The hook routes (Metacontroller's port). */
  url: string;
  /** /v1/housekeeping and /debug/schedules. */
  operationsUrl: string;
  /** /metrics and the probes. */
  metricsUrl: string;
  logPath: string;
  managed: Managed;
  stop(): Promise<void>;
}

export interface Stack {
  dir: string;
  kube: KubeRest;
  controlPlane: ControlPlane;
  minio: Minio;
  agent: NodeAgent;
  hooks: HookService;
  metacontroller: Metacontroller;
  /** Every Job and run since the stack started. */
  audit: Audit;
  /** The restic repository of a PVC with the environment that opens it (for tests that run restic). */
  repository(namespace: string, pvc: string): Repository;
  /** Checks the exactly-once invariants (audit.ts) and that no credential leaked (leaks.ts); throws with every violation. */
  verify(): Promise<AuditReport>;
  /** The hook service's environment, for restarts with changes. */
  hookEnv: Record<string, string>;
  restartHooks(env?: Record<string, string>): Promise<void>;
  /** SIGKILLs the hook service; `startHooks` brings it back on the same address. */
  killHooks(): Promise<void>;
  startHooks(): Promise<void>;
  restartMetacontroller(): Promise<void>;
  /** SIGKILLs Metacontroller; `startMetacontroller` brings it back. */
  killMetacontroller(): Promise<void>;
  startMetacontroller(): Promise<void>;
  /** Keeps the component logs after stop (a test failed); the volumes and S3 data are removed. */
  keepLogs(): void;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Overrides of the hook service configuration. */
  hookEnv?: Record<string, string>;
  log?: (line: string) => void;
  /** Keep the working directory (logs, volumes) after stop; also with BACKSNAP_E2E_KEEP=1. */
  keepDir?: boolean;
  /** Do not start Metacontroller yet (startMetacontroller does): objects created meanwhile stay untouched. */
  deferMetacontroller?: boolean;
}

/** deploy/backsnap.env: the shipped non-secret configuration. */
export function shippedConfig(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, 'deploy/backsnap.env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match !== null) env[match[1] ?? ''] = match[2] ?? '';
  }
  // The container's own environment too (heap and malloc settings; the ports are the stack's).
  type Deployment = { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } };
  const deployment = parse(readFileSync(join(ROOT, 'deploy/deployment.yaml'), 'utf8')) as Deployment;
  for (const { name, value } of deployment.spec.template.spec.containers[0]?.env ?? []) if (value !== undefined) env[name] = value;
  return env;
}

interface HookPorts {
  hooks: number;
  operations: number;
  metrics: number;
}

async function startHooks(env: Record<string, string>, dir: string, kubeconfigPath: string, ports: HookPorts): Promise<HookService> {
  const logPath = join(dir, 'hooks.log');
  const managed: Managed = startManaged({
    name: 'hooks',
    command: process.execPath,
    args: [join(ROOT, 'src/main.ts')],
    logPath,
    env: {
      PATH: process.env['PATH'] ?? '',
      KUBECONFIG: kubeconfigPath,
      ...env,
      BACKSNAP_HOST: '127.0.0.1',
      BACKSNAP_PORT: String(ports.hooks),
      BACKSNAP_OPERATIONS_PORT: String(ports.operations),
      BACKSNAP_METRICS_PORT: String(ports.metrics),
    },
  });
  const at = (port: number) => `http://127.0.0.1:${port}`;
  await waitFor('the hook service to be ready', async () => ((await fetch(`${at(ports.metrics)}/readyz`)).ok ? true : undefined), {
    timeoutMs: 30_000,
    failFast: () => (managed.child.exitCode !== null ? `exited: ${logTail(logPath)}` : undefined),
  });
  return { url: at(ports.hooks), operationsUrl: at(ports.operations), metricsUrl: at(ports.metrics), logPath, managed, stop: () => managed.stop() };
}

type Hook = { webhook?: { url?: string; path?: string; service?: unknown } };

/** metacontroller/*.yaml with each in-cluster Service webhook pointed at the local hook service. */
export function controllerDefinitions(hookUrl: string): Record<string, unknown>[] {
  const dir = join(ROOT, 'metacontroller');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>))
    .map((controller) => {
      const spec = controller['spec'] as { hooks: Record<string, Hook> };
      for (const hook of Object.values(spec.hooks)) {
        const webhook = hook.webhook ?? {};
        hook.webhook = { ...webhook, url: `${hookUrl}${webhook.path ?? ''}` };
        delete hook.webhook.service;
        delete hook.webhook.path;
      }
      return controller;
    });
}

async function apply(kube: KubeRest, collection: string, object: Record<string, unknown>): Promise<void> {
  const name = (object['metadata'] as { name: string }).name;
  const live = await kube.get<{ metadata: { resourceVersion: string } }>(`${collection}/${name}`);
  if (live === undefined) await kube.create(collection, object);
  else await kube.request('PUT', `${collection}/${name}`, { ...object, metadata: { ...(object['metadata'] as object), resourceVersion: live.metadata.resourceVersion } });
}

async function applyCrds(kube: KubeRest): Promise<void> {
  const collection = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  for (const file of ['pvcbackups.backsnap.skyb.it.yaml', 'pvcrestores.backsnap.skyb.it.yaml']) {
    const crd = parse(readFileSync(join(ROOT, 'crds', file), 'utf8')) as Record<string, unknown>;
    await apply(kube, collection, crd);
    const name = (crd['metadata'] as { name: string }).name;
    await waitFor(`CRD ${name} to be established`, async () => {
      const live = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`${collection}/${name}`);
      return live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true ? true : undefined;
    });
  }
}

async function applyControllers(kube: KubeRest, hookUrl: string): Promise<void> {
  for (const controller of controllerDefinitions(hookUrl)) {
    const plural = controller['kind'] === 'CompositeController' ? 'compositecontrollers' : 'decoratorcontrollers';
    await apply(kube, `/apis/metacontroller.k8s.io/v1alpha1/${plural}`, controller);
  }
}

/** Deletes every file under `dir` except `*.log` files. */
function removeAllButLogs(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removeAllButLogs(path);
    else if (!entry.name.endsWith('.log')) rmSync(path, { force: true });
  }
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'backsnap-e2e-'));
  // What runs now, stopped in reverse order; restarts replace entries.
  const running = new Map<string, () => Promise<void>>();
  let failed = false;
  const stopAll = async () => {
    for (const [name, stop] of [...running].reverse()) await stop().catch((e: unknown) => log(`stopping ${name} failed: ${String(e)}`));
    running.clear();
    if (opts.keepDir === true || process.env['BACKSNAP_E2E_KEEP'] === '1') log(`logs kept in ${dir}`);
    else if (failed) {
      // /tmp outlives a CI run here: the logs of a failure are what the next look needs, the
      // volumes (hundreds of MB) are not.
      removeAllButLogs(dir);
      log(`a test failed: logs kept in ${dir}`);
    } else rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    mkdirSync(join(dir, 'cp'));
    const controlPlane = await startControlPlane({ dir: join(dir, 'cp'), log });
    running.set('control plane', () => controlPlane.stop());
    log(`control plane at ${controlPlane.server} (${Date.now() - started} ms)`);
    const kube = await KubeRest.fromKubeconfig(controlPlane.kubeconfigPath);
    mkdirSync(join(dir, 'minio'));
    const minio = await startMinio({ dir: join(dir, 'minio'), log });
    running.set('minio', () => minio.stop());
    log(`MinIO at ${minio.endpoint}, bucket ${minio.bucket}`);
    const agent = await startNodeAgent({ kubeconfigPath: controlPlane.kubeconfigPath, dataDir: join(dir, 'agent'), imagesDir: cacheImagesDir(), csiSocket: controlPlane.csi.socketPath, log: (l) => log(`[node-agent] ${l}`) });
    running.set('node agent', () => agent.stop());
    await applyCrds(kube);
    await applyMetacontrollerCrds(kube);
    // Established is not yet served: the audit's watches start once a list answers.
    await waitFor('the backsnap CRDs to be served', async () => ((await kube.list(`${BACKSNAP}/pvcbackups`).catch(() => undefined)) === undefined ? undefined : true));
    await waitFor('the backsnap CRDs to be served', async () => ((await kube.list(`${BACKSNAP}/pvcrestores`).catch(() => undefined)) === undefined ? undefined : true));
    // The password a namespace's repositories were written with (src/restic/credentials.ts).
    const perNamespace = opts.hookEnv?.['BACKSNAP_PER_NAMESPACE_PASSWORDS'] === 'true';
    const passwordOf = (namespace: string) => (perNamespace ? namespacePassword(RESTIC_PASSWORD, namespace) : RESTIC_PASSWORD);
    const repository = (namespace: string, pvc: string): Repository => ({
      url: `s3:${minio.endpoint}/${minio.bucket}/${namespace}/${pvc}`,
      env: { RESTIC_PASSWORD: passwordOf(namespace), AWS_ACCESS_KEY_ID: minio.accessKey, AWS_SECRET_ACCESS_KEY: minio.secretKey },
    });
    // The limit as the hook service runs now (hookEnv is set up below, before any backup).
    const audit = startAudit({ kube, repositoryOf: repository, maxRunningBackups: () => Number(hookEnv['BACKSNAP_MAX_RUNNING_BACKUPS'] ?? '1'), log });
    running.set('audit', async () => audit.stop());

    const hookEnv: Record<string, string> = {
      ...shippedConfig(),
      BACKSNAP_S3_HOST: minio.endpoint,
      BACKSNAP_S3_BUCKET: minio.bucket,
      BACKSNAP_S3_ACCESS_KEY_ID: minio.accessKey,
      BACKSNAP_S3_SECRET_ACCESS_KEY: minio.secretKey,
      BACKSNAP_RESTIC_PASSWORD: RESTIC_PASSWORD,
      BACKSNAP_HOUSEKEEPING_TOKEN: HOUSEKEEPING_TOKEN,
      BACKSNAP_HOOK_TOKEN: randomBytes(24).toString('hex'),
      // No default schedule: only namespaces a test annotates get automatic backups.
      BACKSNAP_SCHEDULE: '',
      BACKSNAP_SNAPSHOT_TIMEOUT: '20s',
      BACKSNAP_START_GRACE: '15s',
      BACKSNAP_RESULT_GRACE: '10s',
      BACKSNAP_JOB_TIMEOUT: '10m',
      BACKSNAP_JOB_BACKOFF_LIMIT: '0',
      BACKSNAP_LOG_LEVEL: 'info',
      ...opts.hookEnv,
    };
    // Every credential the stack ever used, for the leak check.
    const credentials = new Map<string, string>();
    const rememberCredentials = () => {
      for (const [name, value] of Object.entries(hookEnv)) {
        const known = [...credentials.values()].includes(value);
        if (/TOKEN|PASSWORD|SECRET|ACCESS_KEY/.test(name) && value.length >= 8 && !known) credentials.set(`${name} (value ${credentials.size + 1})`, value);
      }
    };
    rememberCredentials();
    // The hook token where deploy/ keeps it: Metacontroller reads it from this Secret (the
    // webhooks' authorization in metacontroller/*.yaml), the service from its environment.
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } });
    await kube.create(`/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets`, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: CREDENTIALS_SECRET }, stringData: { BACKSNAP_HOOK_TOKEN: hookEnv['BACKSNAP_HOOK_TOKEN'] },
    });
    // Fixed ports, like a Service in front of the hook Pods: restarts keep the addresses.
    const ports: HookPorts = { hooks: await freePort(), operations: await freePort(), metrics: await freePort() };
    let hooks = await startHooks(hookEnv, dir, controlPlane.kubeconfigPath, ports);
    running.set('hooks', () => hooks.stop());
    await applyControllers(kube, hooks.url);
    const metacontrollerLog = join(dir, 'metacontroller.log');
    const launchMetacontroller = () => startMetacontroller({ kubeconfigPath: controlPlane.kubeconfigPath, logPath: metacontrollerLog });
    let metacontroller: Metacontroller | undefined = opts.deferMetacontroller === true ? undefined : await launchMetacontroller();
    running.set('metacontroller', async () => metacontroller?.stop());
    log(`stack ready in ${Date.now() - started} ms (${dir})`);

    return {
      dir,
      kube,
      controlPlane,
      minio,
      agent,
      get hooks() {
        return hooks;
      },
      get metacontroller() {
        if (metacontroller === undefined) throw new Error('Metacontroller has not been started (deferMetacontroller)');
        return metacontroller;
      },
      audit,
      repository,
      async verify() {
        const report = await audit.check();
        log(`audit: ${report.runs} runs, ${report.jobs} Jobs, ${report.repositories.map((r) => `${r.snapshots}/${r.successfulBackups}-${r.removed}`).join(' ')} snapshots/successful backups-forgotten per repository`);
        const namespaces = (await kube.list<{ metadata: { name: string } }>('/api/v1/namespaces')).items.map((n) => n.metadata.name);
        for (const ns of namespaces) credentials.set(`the restic password of namespace ${ns}`, namespacePassword(RESTIC_PASSWORD, ns));
        const leaks = await findLeaks({ kube, credentials, logs: [hooks.logPath, metacontrollerLog], urls: [`${hooks.metricsUrl}/metrics`] });
        const problems = [...report.violations, ...leaks];
        if (problems.length > 0) throw new Error(`the stack's invariants do not hold (logs in ${dir}):\n- ${problems.join('\n- ')}`);
        return report;
      },
      hookEnv,
      async restartHooks(env = {}) {
        await hooks.stop();
        Object.assign(hookEnv, env);
        rememberCredentials();
        hooks = await startHooks(hookEnv, dir, controlPlane.kubeconfigPath, ports);
      },
      async killHooks() {
        const pid = hooks.managed.child.pid;
        if (pid !== undefined && hooks.managed.child.exitCode === null) process.kill(-pid, 'SIGKILL');
        await hooks.managed.exited;
      },
      async startHooks() {
        hooks = await startHooks(hookEnv, dir, controlPlane.kubeconfigPath, ports);
      },
      async restartMetacontroller() {
        await metacontroller?.stop();
        metacontroller = await launchMetacontroller();
      },
      killMetacontroller: async () => metacontroller?.kill(),
      async startMetacontroller() {
        metacontroller = await launchMetacontroller();
      },
      keepLogs: () => {
        failed = true;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
