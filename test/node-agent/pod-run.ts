// One Pod's life on the node agent, as kubelet would run it: volumes, init containers one by one,
// then the containers together, restarts per restartPolicy, and the Pod status reported on the way.
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { isNotFound, type KubeRest } from '../env/kube-rest.ts';
import { launchContainer, type Mount } from './container.ts';
import type { CsiMounts } from './csi-mounts.ts';
import { ObjectReader, resolveCommand } from './env.ts';
import { ImageNotAvailable, imageRoot } from './images.ts';
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodPhase, PodStatus } from './types.ts';
import { podVolumes, type HostVolume } from './volumes.ts';
import type { Managed } from '../env/processes.ts';

export interface PodRunContext {
  kube: KubeRest;
  dataDir: string;
  /** Root file systems of the images the agent can run (images.ts). */
  imagesDir: string;
  csi: CsiMounts;
  log: (line: string) => void;
}

// kubelet's limits for termination messages and for the log fallback.
const MAX_MESSAGE_BYTES = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;
const RESTART_BACKOFF_MS = 1000;

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function podLogDir(dataDir: string, pod: Pod): string {
  return join(dataDir, 'logs', `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid}`);
}

export function podWorkDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

/** Reads at most `max` bytes of a file from `offset`, keeping the end when it is longer. */
function readTail(path: string, offset: number, max: number): string {
  try {
    const size = statSync(path).size;
    const start = Math.max(offset, size - max);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  } catch {
    return '';
  }
}

interface Outcome {
  exitCode: number;
}

export class PodRun {
  readonly uid: string;
  /** Settles when every container has ended and the final status was sent. */
  readonly done: Promise<void>;
  private readonly ctx: PodRunContext;
  private readonly pod: Pod;
  private readonly path: string;
  private readonly statuses = new Map<string, ContainerStatus>();
  private readonly transitions = new Map<string, { status: string; time: string }>();
  private readonly processes = new Set<Managed>();
  private readonly startTime = now();
  private phase: PodPhase = 'Pending';
  private volumesReady = false;
  private initialized: boolean;
  private killed = false;
  private agentStopping = false;
  private readonly sleepers = new Set<() => void>();
  private reporting: Promise<void> = Promise.resolve();

  constructor(ctx: PodRunContext, pod: Pod) {
    this.ctx = ctx;
    this.pod = pod;
    this.uid = pod.metadata.uid;
    this.path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    const hasInit = (pod.spec.initContainers ?? []).length > 0;
    this.initialized = !hasInit;
    for (const c of pod.spec.initContainers ?? []) this.statuses.set(c.name, this.initialStatus(c, 'PodInitializing'));
    for (const c of pod.spec.containers) this.statuses.set(c.name, this.initialStatus(c, hasInit ? 'PodInitializing' : 'ContainerCreating'));
    this.done = this.run().catch((error: unknown) => {
      this.ctx.log(`pod ${this.name()}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /**
   * Stops all containers (SIGTERM, then SIGKILL) and waits for the final status. When the agent
   * itself stops, the API may already be gone: `agentStopping` then allows one attempt only.
   */
  async kill(agentStopping = false): Promise<void> {
    this.killed = true;
    this.agentStopping = agentStopping;
    for (const wake of this.sleepers) wake();
    // A short grace period keeps tests fast; PID 1 of a container ignores SIGTERM without a handler.
    const graceMs = agentStopping ? 0 : Math.min((this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000, 2000);
    await Promise.all([...this.processes].map((p) => p.stop(graceMs)));
    await this.done;
  }

  /** SIGKILLs every container process at once, as the kernel's OOM killer would: nothing can clean up. */
  crash(): void {
    for (const p of this.processes) {
      if (p.child.pid !== undefined && p.child.exitCode === null) process.kill(-p.child.pid, 'SIGKILL');
    }
  }

  /** The Pod this runs. */
  get podName(): { namespace: string; name: string } {
    return { namespace: this.pod.metadata.namespace ?? '', name: this.pod.metadata.name };
  }

  private name(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  private initialStatus(c: Container, reason: string): ContainerStatus {
    const state: ContainerState = { waiting: { reason } };
    return { name: c.name, image: c.image ?? '', imageID: '', ready: false, started: false, restartCount: 0, state, lastState: {} };
  }

  private async run(): Promise<void> {
    const objects = new ObjectReader(this.ctx.kube, this.pod.metadata.namespace ?? 'default');
    const podDir = podWorkDir(this.ctx.dataDir, this.uid);
    mkdirSync(podLogDir(this.ctx.dataDir, this.pod), { recursive: true });
    let volumes: Map<string, HostVolume> | undefined;
    while (volumes === undefined && !this.killed) {
      try {
        volumes = await podVolumes({ kube: this.ctx.kube, csi: this.ctx.csi, objects, log: this.ctx.log }, this.pod, podDir);
      } catch (error) {
        // kubelet keeps such a Pod Pending and retries; the reason shows in the container status.
        this.waitingAll('ContainerCreating', `MountVolume.SetUp failed: ${error instanceof Error ? error.message : String(error)}`);
        this.report();
        await this.sleep(2000);
      }
    }
    this.volumesReady = volumes !== undefined;
    this.report();
    let failed = false;
    for (const c of this.pod.spec.initContainers ?? []) {
      if (failed || this.killed) break;
      failed = (await this.runWithRestarts(c, volumes ?? new Map(), objects, true)).exitCode !== 0;
    }
    if (!failed && !this.killed) {
      this.initialized = true;
      const outcomes = await Promise.all(this.pod.spec.containers.map((c) => this.runWithRestarts(c, volumes ?? new Map(), objects, false)));
      failed = outcomes.some((o) => o.exitCode !== 0);
    }
    for (const status of this.statuses.values()) {
      // Containers that never ran (killed early, or after a failed init container) end unknown.
      if (status.state.terminated === undefined && (this.killed || failed)) {
        status.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', startedAt: this.startTime, finishedAt: now() } };
      }
    }
    // Like kubelet, volumes are unmounted once the containers are gone: the driver deletes no
    // volume that is still published.
    await this.ctx.csi.release(this.uid);
    this.phase = failed || this.killed ? 'Failed' : 'Succeeded';
    await this.reportFinal();
  }

  /** The terminal phase must reach the API (the Job controller waits for it), so it is retried. */
  private async reportFinal(): Promise<void> {
    await this.reporting;
    const status = this.currentStatus();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ctx.kube.patch(`${this.path}/status`, { status }, 'strategic');
        return;
      } catch (error) {
        if (isNotFound(error) || attempt === 30 || this.agentStopping) {
          if (!isNotFound(error)) this.ctx.log(`pod ${this.name()}: final status update failed: ${String(error)}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private waitingAll(reason: string, message: string): void {
    for (const status of this.statuses.values()) if (status.state.waiting !== undefined) status.state = { waiting: { reason, message } };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private restarts(init: boolean, exitCode: number): boolean {
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Never') return false;
    return exitCode !== 0 || (policy === 'Always' && !init);
  }

  private async runWithRestarts(c: Container, volumes: Map<string, HostVolume>, objects: ObjectReader, init: boolean): Promise<Outcome> {
    const status = this.statuses.get(c.name) as ContainerStatus;
    for (;;) {
      if (this.killed) return { exitCode: 137 };
      const outcome = await this.runOnce(c, status, volumes, objects);
      if (outcome === undefined) continue;
      if (this.killed || !this.restarts(init, outcome.exitCode)) return outcome;
      status.restartCount += 1;
      status.lastState = status.state;
      status.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${c.name}` } };
      this.report();
      await this.sleep(RESTART_BACKOFF_MS);
    }
  }

  /** Runs the container once; undefined when it could not start (retried after a pause). */
  private async runOnce(c: Container, status: ContainerStatus, volumes: Map<string, HostVolume>, objects: ObjectReader): Promise<Outcome | undefined> {
    const dir = join(podWorkDir(this.ctx.dataDir, this.uid), 'containers', c.name);
    const rootDir = join(dir, 'root');
    const terminationLog = join(dir, 'termination-log');
    const logPath = join(podLogDir(this.ctx.dataDir, this.pod), `${c.name}.log`);
    let managed: Managed;
    try {
      const image = imageRoot(this.ctx.imagesDir, c.image ?? '');
      const { env, argv } = await resolveCommand(this.pod, c, objects);
      // kill() may have come while the command was resolved; it only stops processes it sees.
      if (this.killed) return undefined;
      mkdirSync(rootDir, { recursive: true });
      writeFileSync(terminationLog, '');
      // Any user the container runs as may write its termination message.
      chmodSync(terminationLog, 0o666);
      const mounts: Mount[] = (c.volumeMounts ?? []).map((m) => {
        const volume = volumes.get(m.name);
        if (volume === undefined) throw new Error(`volume ${m.name} is not defined`);
        const source = m.subPath ? join(volume.path, m.subPath) : volume.path;
        mkdirSync(source, { recursive: true });
        return { source, target: m.mountPath, readOnly: m.readOnly === true || volume.readOnly, file: false };
      });
      mounts.push({ source: terminationLog, target: c.terminationMessagePath ?? '/dev/termination-log', readOnly: false, file: true });
      const context = c.securityContext ?? {};
      const podContext = this.pod.spec.securityContext ?? {};
      const uid = context.runAsUser ?? podContext.runAsUser;
      const gid = context.runAsGroup ?? podContext.runAsGroup ?? uid;
      const defaults = { ...image.env, HOME: '/root', HOSTNAME: this.pod.metadata.name };
      managed = launchContainer({
        name: `${this.name()}/${c.name}`,
        hostname: (this.pod.spec.hostname ?? this.pod.metadata.name).slice(0, 63),
        rootDir,
        imageRoot: image.root,
        readOnlyRoot: context.readOnlyRootFilesystem === true,
        mounts,
        workingDir: c.workingDir ?? '/',
        argv,
        env: { ...defaults, ...Object.fromEntries(env) },
        user: uid === undefined ? undefined : { uid, gid: gid ?? 0 },
        logPath,
      });
    } catch (error) {
      // kubelet's reasons: an image it cannot get, or a configuration it cannot build.
      const reason = error instanceof ImageNotAvailable ? 'ErrImagePull' : 'CreateContainerConfigError';
      status.state = { waiting: { reason, message: error instanceof Error ? error.message : String(error) } };
      this.report();
      await this.sleep(2000);
      return undefined;
    }
    const logOffset = statSync(logPath).size;
    this.processes.add(managed);
    const startedAt = now();
    const containerID = `node-agent://${managed.child.pid}`;
    status.containerID = containerID;
    status.state = { running: { startedAt } };
    status.ready = true;
    status.started = true;
    this.report();
    const exit = await managed.exited;
    this.processes.delete(managed);
    const signalNumber = exit.signal === null ? undefined : constants.signals[exit.signal];
    const exitCode = exit.code ?? 128 + (signalNumber ?? 9);
    let message = readTail(terminationLog, 0, MAX_MESSAGE_BYTES);
    if (message === '' && exitCode !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = readTail(logPath, logOffset, FALLBACK_LOG_BYTES).split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
    }
    status.state = {
      terminated: {
        exitCode,
        ...(signalNumber === undefined ? {} : { signal: signalNumber }),
        reason: exitCode === 0 ? 'Completed' : 'Error',
        ...(message === '' ? {} : { message }),
        startedAt,
        finishedAt: now(),
        containerID,
      },
    };
    status.ready = false;
    status.started = false;
    this.report();
    return { exitCode };
  }

  private condition(type: string, ok: boolean, reason?: string): PodCondition {
    const status = ok ? 'True' : 'False';
    const previous = this.transitions.get(type);
    if (previous?.status !== status) this.transitions.set(type, { status, time: now() });
    const time = this.transitions.get(type)?.time ?? now();
    return { type, status, lastProbeTime: null, lastTransitionTime: time, ...(ok || reason === undefined ? {} : { reason }) };
  }

  private currentStatus(): PodStatus {
    const init = (this.pod.spec.initContainers ?? []).map((c) => this.statuses.get(c.name) as ContainerStatus);
    const main = this.pod.spec.containers.map((c) => this.statuses.get(c.name) as ContainerStatus);
    const terminal = this.phase === 'Succeeded' || this.phase === 'Failed';
    let phase = this.phase;
    if (!terminal && main.some((s) => s.state.running !== undefined || s.restartCount > 0 || s.state.terminated !== undefined)) phase = 'Running';
    const allReady = !terminal && main.every((s) => s.ready);
    const notReady = terminal ? 'PodCompleted' : 'ContainersNotReady';
    return {
      phase,
      startTime: this.startTime,
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      conditions: [
        this.condition('PodScheduled', true),
        this.condition('PodReadyToStartContainers', this.volumesReady && !terminal),
        this.condition('Initialized', this.initialized, terminal ? 'PodCompleted' : 'ContainersNotInitialized'),
        this.condition('ContainersReady', allReady, notReady),
        this.condition('Ready', allReady, notReady),
      ],
      ...(init.length > 0 ? { initContainerStatuses: structuredClone(init) } : {}),
      containerStatuses: structuredClone(main),
    };
  }

  /** Sends the current status; patches go out in order and a failed one is only logged. */
  private report(): void {
    const status = this.currentStatus();
    this.reporting = this.reporting.then(async () => {
      try {
        await this.ctx.kube.patch(`${this.path}/status`, { status }, 'strategic');
      } catch (error) {
        if (!isNotFound(error)) this.ctx.log(`pod ${this.name()}: status update failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }
}
