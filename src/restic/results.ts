// What a Job's Pods reported: restic's JSON summary on success, the reason on failure.
import type { ContainerStateTerminated, Pod } from '../kube/types.ts';
import type { BackupStatistics } from '../schema/pvcbackup.ts';
import type { RestoreStatistics } from '../schema/pvcrestore.ts';
import { RESTIC_CONTAINER } from './job.ts';

/** What the backup Job's forget, prune and check did (absent: not run). */
export interface Maintenance {
  retention?: { kept: number; removed: number; oldest?: string } | { error: string };
  prune?: { ok: true } | { error: string };
  check?: { ok: true } | { error: string };
}

export type RunReport =
  | ({ kind: 'backup'; snapshotId: string; statistics: BackupStatistics } & Maintenance)
  | { kind: 'restore'; snapshotId: string; statistics: RestoreStatistics | undefined }
  | { kind: 'text'; message: string; reason?: string };

function int(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function outcome(value: unknown): { ok: true } | { error: string } | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value['error'] === 'string') return { error: value['error'] };
  return value['ok'] === true ? { ok: true } : undefined;
}

function maintenanceOf(parsed: Record<string, unknown>): Maintenance {
  const maintenance: Maintenance = {};
  const retention = parsed['retention'];
  if (isRecord(retention)) {
    if (typeof retention['error'] === 'string') maintenance.retention = { error: retention['error'] };
    else maintenance.retention = { kept: int(retention, 'kept'), removed: int(retention, 'removed'), ...(typeof retention['oldest'] === 'string' && retention['oldest'] !== '' ? { oldest: retention['oldest'] } : {}) };
  }
  const prune = outcome(parsed['prune']);
  if (prune !== undefined) maintenance.prune = prune;
  const check = outcome(parsed['check']);
  if (check !== undefined) maintenance.check = check;
  return maintenance;
}

/** Parses a termination message; anything that is not one of our JSON shapes is text. */
export function parseReport(message: string): RunReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { kind: 'text', message: message.trim() };
  }
  // The backup script's report: restic's summary plus what forget, prune and check did.
  if (isRecord(parsed) && parsed['message_type'] === 'backsnap' && isRecord(parsed['backup'])) {
    const backup = parseReport(JSON.stringify(parsed['backup']));
    return backup.kind === 'backup' ? { ...backup, ...maintenanceOf(parsed) } : backup;
  }
  if (isRecord(parsed) && parsed['message_type'] === 'failure' && typeof parsed['message'] === 'string') {
    return { kind: 'text', message: parsed['message'], ...(typeof parsed['reason'] === 'string' ? { reason: parsed['reason'] } : {}) };
  }
  if (isRecord(parsed) && parsed['message_type'] === 'summary' && typeof parsed['snapshot_id'] === 'string') {
    return {
      kind: 'backup',
      snapshotId: parsed['snapshot_id'],
      statistics: {
        filesNew: int(parsed, 'files_new'),
        filesChanged: int(parsed, 'files_changed'),
        filesUnmodified: int(parsed, 'files_unmodified'),
        dataAddedBytes: int(parsed, 'data_added'),
        totalFilesProcessed: int(parsed, 'total_files_processed'),
        totalBytesProcessed: int(parsed, 'total_bytes_processed'),
      },
    };
  }
  if (isRecord(parsed) && parsed['message_type'] === 'restore' && typeof parsed['snapshot_id'] === 'string') {
    const summary = parsed['summary'];
    return {
      kind: 'restore',
      snapshotId: parsed['snapshot_id'],
      statistics: isRecord(summary)
        ? {
            totalFiles: int(summary, 'total_files'),
            filesRestored: int(summary, 'files_restored'),
            totalBytes: int(summary, 'total_bytes'),
            bytesRestored: int(summary, 'bytes_restored'),
          }
        : undefined,
    };
  }
  return { kind: 'text', message: message.trim() };
}

function resticTermination(pod: Pod): ContainerStateTerminated | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === RESTIC_CONTAINER)?.state?.terminated;
}

/** Newest first, so the latest attempt speaks; ties broken by name for determinism. */
function byFinish(a: [Pod, ContainerStateTerminated], b: [Pod, ContainerStateTerminated]): number {
  const fa = a[1].finishedAt ?? '';
  const fb = b[1].finishedAt ?? '';
  return fa === fb ? a[0].metadata.name.localeCompare(b[0].metadata.name) : fb.localeCompare(fa);
}

function terminated(pods: readonly Pod[], succeeded: boolean): RunReport | undefined {
  const candidates = pods
    .map((pod): [Pod, ContainerStateTerminated | undefined] => [pod, resticTermination(pod)])
    .filter((entry): entry is [Pod, ContainerStateTerminated] => entry[1] !== undefined && (entry[1].exitCode === 0) === succeeded)
    .sort(byFinish);
  const newest = candidates[0];
  if (newest === undefined) return undefined;
  const [, state] = newest;
  const message = state.message?.trim() ?? '';
  if (message !== '') return parseReport(message);
  return { kind: 'text', message: `restic exited with code ${state.exitCode}${state.reason === undefined ? '' : ` (${state.reason})`}` };
}

/** restic's report from the Pod that succeeded, if the Pod is still observed. */
export function successReport(pods: readonly Pod[]): RunReport | undefined {
  return terminated(pods, true);
}

/** Why the newest failed attempt failed, if a failed Pod is observed; `reason` when the script named one. */
export function failureReport(pods: readonly Pod[]): { message: string; reason?: string } | undefined {
  const report = terminated(pods, false);
  if (report === undefined) return undefined;
  if (report.kind !== 'text') return { message: 'restic failed' };
  return { message: report.message, ...(report.reason === undefined ? {} : { reason: report.reason }) };
}
