// The exactly-once audit of the end-to-end stack: watches started with the stack record every Job
// ever created and the last state of every PVCBackup and PVCRestore (also of deleted ones), and
// `check` holds them against what must be true after any scenario:
// - every run created at most one Job, and every successful run exactly one;
// - no run whose Job succeeded is reported Failed;
// - every restic repository holds exactly one snapshot per successful backup of its PVC, less
//   the ones the backups' forget reports it removed;
// - no more backups ran at once than the cluster-wide limit, and never two of one PVC (from each
//   backup's recorded startedAt and finishedAt; a backup deleted before it finished is left out).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheBinDir } from '../env/controlplane.ts';
import type { KubeRest, Watching } from '../env/kube-rest.ts';
import { waitFor } from '../env/processes.ts';

const run = promisify(execFile);
const BACKSNAP = '/apis/backsnap.skyb.it/v1alpha1';

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  ownerReferences?: { uid: string; kind: string; controller?: boolean }[];
  deletionTimestamp?: string;
}

interface JobObject {
  metadata: Meta;
  status?: { conditions?: { type: string; status: string }[] };
}

interface RunObject {
  kind: string;
  metadata: Meta;
  spec?: { pvc?: string };
  status?: { result?: string; startedAt?: string; finishedAt?: string; conditions?: { type: string; status: string; reason?: string }[]; retention?: { removed?: number } };
}

interface JobRecord {
  name: string;
  succeeded: boolean;
}

interface RunRecord {
  kind: 'PVCBackup' | 'PVCRestore';
  namespace: string;
  name: string;
  pvc: string | undefined;
  result: string | undefined;
  reason: string | undefined;
  /** Snapshots this backup's forget removed. */
  removed: number;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  deleted: boolean;
}

export interface Repository {
  url: string;
  env: Record<string, string>;
}

export interface AuditReport {
  runs: number;
  jobs: number;
  repositories: { repository: string; snapshots: number; successfulBackups: number; removed: number }[];
  violations: string[];
}

export interface Audit {
  /** Jobs created for a run (by its UID), for scenario assertions. */
  jobsOf(runUid: string): JobRecord[];
  /** A scenario wrote `count` snapshots into a repository itself (e.g. as the Go backsnap would have). */
  expectForeignSnapshots(namespace: string, pvc: string, count: number): void;
  check(): Promise<AuditReport>;
  stop(): void;
}

export interface AuditOptions {
  kube: KubeRest;
  /** The restic repository of a PVC, with the environment restic needs to open it. */
  repositoryOf(namespace: string, pvc: string): Repository;
  /** The hook service's BACKSNAP_MAX_RUNNING_BACKUPS (0: no limit), read when checking. */
  maxRunningBackups(): number;
  log?: (line: string) => void;
}

/** Where backups overlapped: more than `limit` at once (0: no limit), or two of one PVC. */
export function concurrencyViolations(backups: readonly { namespace: string; name: string; pvc: string | undefined; startedAt: string | undefined; finishedAt: string | undefined }[], limit: number): string[] {
  const spans = backups.flatMap((b) => {
    const [start, end] = [Date.parse(b.startedAt ?? ''), Date.parse(b.finishedAt ?? '')];
    return Number.isNaN(start) || Number.isNaN(end) ? [] : [{ what: `${b.namespace}/${b.name}`, volume: `${b.namespace}/${b.pvc ?? ''}`, start, end }];
  });
  const violations: string[] = [];
  for (const span of spans) {
    // Everything running at the moment this one started (an end equal to the start does not overlap).
    const alongside = spans.filter((o) => o !== span && o.start <= span.start && o.end > span.start);
    if (limit > 0 && alongside.length + 1 > limit) violations.push(`${alongside.length + 1} backups ran at once (limit ${limit}) when ${span.what} started: ${alongside.map((o) => o.what).join(', ')}`);
    const sameVolume = alongside.find((o) => o.volume === span.volume);
    if (sameVolume !== undefined) violations.push(`backups ${sameVolume.what} and ${span.what} of one PVC ran at once`);
  }
  return violations;
}

/** Runs restic on a repository with its environment; resolves with stdout, rejects with restic's exit code. */
export async function restic(repository: Repository, args: string[]): Promise<string> {
  const cache = mkdtempSync(join(tmpdir(), 'backsnap-restic-'));
  try {
    const { stdout } = await run(join(cacheBinDir(), 'restic'), args, {
      // The repository wins over a RESTIC_REPOSITORY in the env (a Job's Secret has one).
      env: { PATH: process.env['PATH'] ?? '', RESTIC_CACHE_DIR: cache, ...repository.env, RESTIC_REPOSITORY: repository.url },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

const isTrue = (conditions: { type: string; status: string }[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === 'True') === true;

export function startAudit(opts: AuditOptions): Audit {
  const jobs = new Map<string, Map<string, JobRecord>>();
  const runs = new Map<string, RunRecord>();
  const foreign = new Map<string, number>();
  const onError = (error: Error) => opts.log?.(`audit watch: ${error.message}`);
  const watches: Watching[] = [
    opts.kube.watch<JobObject>('/apis/batch/v1/jobs', ({ object }) => {
      const owner = object.metadata.ownerReferences?.find((o) => o.controller === true);
      if (owner === undefined) return;
      const owned = jobs.get(owner.uid) ?? new Map<string, JobRecord>();
      owned.set(object.metadata.uid, { name: object.metadata.name, succeeded: isTrue(object.status?.conditions, 'Complete') || owned.get(object.metadata.uid)?.succeeded === true });
      jobs.set(owner.uid, owned);
    }, onError),
    ...(['pvcbackups', 'pvcrestores'] as const).map((plural) =>
      opts.kube.watch<RunObject>(`${BACKSNAP}/${plural}`, ({ type, object }) => {
        const failed = object.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
        runs.set(object.metadata.uid, {
          kind: plural === 'pvcbackups' ? 'PVCBackup' : 'PVCRestore',
          namespace: object.metadata.namespace ?? '',
          name: object.metadata.name,
          pvc: object.spec?.pvc,
          result: object.status?.result,
          reason: failed?.reason,
          removed: object.status?.retention?.removed ?? 0,
          startedAt: object.status?.startedAt,
          finishedAt: object.status?.finishedAt,
          deleted: type === 'DELETED' || object.metadata.deletionTimestamp !== undefined,
        });
      }, onError),
    ),
  ];

  async function snapshotCount(repository: Repository): Promise<number> {
    try {
      return (JSON.parse(await restic(repository, ['snapshots', '--json', '--no-lock'])) as unknown[]).length;
    } catch (error) {
      // restic >= 0.17 exits with 10 when the repository does not exist: no backup reached it.
      if ((error as { code?: number }).code === 10) return 0;
      throw error;
    }
  }

  return {
    jobsOf: (uid) => [...(jobs.get(uid)?.values() ?? [])],
    expectForeignSnapshots: (namespace, pvc, count) => void foreign.set(`${namespace}/${pvc}`, (foreign.get(`${namespace}/${pvc}`) ?? 0) + count),
    async check() {
      // Runs still going are waited for: the invariants are about finished runs.
      await waitFor('every audited run to finish', async () => ([...runs.values()].every((r) => r.result !== undefined || r.deleted) ? true : undefined), { timeoutMs: 180_000, intervalMs: 1000 }).catch(() => undefined);
      const violations: string[] = [];
      for (const [uid, r] of runs) {
        const made = [...(jobs.get(uid)?.values() ?? [])];
        const what = `${r.kind} ${r.namespace}/${r.name}`;
        if (r.result === undefined && !r.deleted) violations.push(`${what} never finished`);
        if (made.length > 1) violations.push(`${what} created ${made.length} Jobs`);
        if (r.result === 'Succeeded' && made.length !== 1) violations.push(`${what} succeeded with ${made.length} Jobs`);
        if (r.result === 'Failed' && made.some((j) => j.succeeded)) violations.push(`${what} is Failed (${r.reason}) but its Job succeeded`);
      }
      const finishedBackups = [...runs.values()].filter((r) => r.kind === 'PVCBackup' && r.result !== undefined);
      violations.push(...concurrencyViolations(finishedBackups, opts.maxRunningBackups()));
      const repositories: AuditReport['repositories'] = [];
      const backups = [...runs.values()].filter((r) => r.kind === 'PVCBackup' && r.pvc !== undefined);
      for (const key of new Set(backups.map((b) => `${b.namespace}/${b.pvc}`))) {
        const [namespace = '', pvc = ''] = key.split('/');
        const ofPvc = backups.filter((b) => b.namespace === namespace && b.pvc === pvc && b.result === 'Succeeded');
        const successfulBackups = ofPvc.length;
        const removed = ofPvc.reduce((n, b) => n + b.removed, 0);
        const repository = opts.repositoryOf(namespace, pvc);
        const snapshots = await snapshotCount(repository);
        const written = successfulBackups + (foreign.get(key) ?? 0);
        repositories.push({ repository: repository.url, snapshots, successfulBackups, removed });
        if (snapshots !== written - removed) violations.push(`${repository.url} holds ${snapshots} restic snapshots for ${successfulBackups} successful backups (and ${foreign.get(key) ?? 0} written by the test) of which forget removed ${removed}`);
      }
      const jobCount = [...jobs.values()].reduce((n, owned) => n + owned.size, 0);
      return { runs: runs.size, jobs: jobCount, repositories, violations };
    },
    stop: () => {
      for (const w of watches) w.stop();
    },
  };
}
