// When a repository is pruned and checked: on a cadence of its own (BACKSNAP_PRUNE_INTERVAL,
// BACKSNAP_CHECK_INTERVAL), in the first backup after it is due, never after every backup. The
// last run of each is remembered on cluster objects, so restarts forget nothing: in the PVC's
// annotations (set by the scheduler from its backups) and in the status of the PVCBackups that
// ran them. A failed run is due again at the next backup.
import { parseTime } from '../duration.ts';
import type { PersistentVolumeClaim } from '../kube/types.ts';
import { LAST_CHECK_ANNOTATION, LAST_PRUNE_ANNOTATION } from '../labels.ts';

export type MaintenanceKind = 'prune' | 'check';

export interface MaintenanceRecord {
  /** RFC 3339. */
  at: string;
  result: 'Succeeded' | 'Failed';
  message?: string;
}

export const ANNOTATION_OF: Record<MaintenanceKind, string> = { prune: LAST_PRUNE_ANNOTATION, check: LAST_CHECK_ANNOTATION };

/** `<RFC 3339> Succeeded` or `<RFC 3339> Failed: <message>`. */
export function formatRecord(record: MaintenanceRecord): string {
  return `${record.at} ${record.result}${record.message === undefined ? '' : `: ${record.message}`}`;
}

export function parseRecord(text: string | undefined): MaintenanceRecord | undefined {
  const match = /^(\S+) (Succeeded|Failed)(?:: (.*))?$/s.exec(text?.trim() ?? '');
  if (match === null || parseTime(match[1]) === undefined) return undefined;
  const [, at = '', result, message] = match;
  return { at, result: result as MaintenanceRecord['result'], ...(message === undefined ? {} : { message }) };
}

/** The newest of the records (the PVC's annotation and the backups' statuses). */
export function newestRecord(records: readonly (MaintenanceRecord | undefined)[]): MaintenanceRecord | undefined {
  let newest: MaintenanceRecord | undefined;
  for (const r of records) {
    if (r === undefined) continue;
    if (newest === undefined || (parseTime(r.at)?.getTime() ?? 0) > (parseTime(newest.at)?.getTime() ?? 0)) newest = r;
  }
  return newest;
}

export function recordOnPvc(pvc: PersistentVolumeClaim | undefined, kind: MaintenanceKind): MaintenanceRecord | undefined {
  return parseRecord(pvc?.metadata.annotations?.[ANNOTATION_OF[kind]]);
}

/** Due when never run, when the last run failed, or one interval after the last success; never with interval 0. */
export function isDue(last: MaintenanceRecord | undefined, intervalMs: number, now: Date): boolean {
  if (intervalMs <= 0) return false;
  if (last === undefined || last.result === 'Failed') return true;
  const at = parseTime(last.at);
  return at === undefined || now.getTime() - at.getTime() >= intervalMs;
}
