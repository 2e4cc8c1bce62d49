// Where a restic Job stands, as backups and restores both read it: failed (with restic's
// reason), complete (with restic's report, waiting a little for the Pod that carries it), lost
// (running past its own deadline), or running. Terminal outcomes carry the time they happened,
// read from the Job, so every sync that sees them records the same finish time.
import type { Config } from '../config.ts';
import { parseTime } from '../duration.ts';
import { findCondition, isConditionTrue } from '../kube/meta.ts';
import type { Job, Pod } from '../kube/types.ts';
import { failureReport, successReport, type RunReport } from './results.ts';

/** A Job still running this long after its own deadline is treated as lost. */
const JOB_DEADLINE_SLACK_MS = 5 * 60_000;

export type JobOutcome =
  | { kind: 'absent' }
  | { kind: 'failed'; reason: string; why: string; at: Date; resticReason?: string }
  | { kind: 'complete'; report: RunReport | undefined; at: Date }
  | { kind: 'collecting'; graceEnds: number }
  | { kind: 'lost'; at: Date }
  | { kind: 'running'; lostAt: number };

export function jobOutcome(job: Job | undefined, pods: readonly Pod[], config: Config, now: Date): JobOutcome {
  if (job === undefined) return { kind: 'absent' };
  const conditions = job.status?.conditions;
  if (isConditionTrue(conditions, 'Failed')) {
    const condition = findCondition(conditions, 'Failed');
    const at = parseTime(condition?.lastTransitionTime) ?? now;
    const report = failureReport(pods);
    return {
      kind: 'failed',
      reason: condition?.reason ?? 'Failed',
      why: report?.message ?? condition?.message ?? 'the Job failed',
      at,
      ...(report?.reason === undefined ? {} : { resticReason: report.reason }),
    };
  }
  if (isConditionTrue(conditions, 'Complete')) {
    const report = successReport(pods);
    const at = parseTime(job.status?.completionTime) ?? parseTime(findCondition(conditions, 'Complete')?.lastTransitionTime) ?? now;
    const graceEnds = at.getTime() + config.resultGraceMs;
    if (report?.kind === 'text' || report === undefined) {
      return now.getTime() < graceEnds ? { kind: 'collecting', graceEnds } : { kind: 'complete', report: undefined, at };
    }
    return { kind: 'complete', report, at };
  }
  const lostAt = (parseTime(job.metadata.creationTimestamp)?.getTime() ?? now.getTime()) + config.jobTimeoutMs + JOB_DEADLINE_SLACK_MS;
  return now.getTime() >= lostAt ? { kind: 'lost', at: new Date(lostAt) } : { kind: 'running', lostAt };
}

export const COLLECTING = { reason: 'CollectingResults', message: "waiting for the Job's Pod to report restic's summary" } as const;

export function lostMessage(config: Config): string {
  return `the Job ran past its deadline of ${config.jobTimeoutMs / 1000}s without finishing; it was deleted`;
}
