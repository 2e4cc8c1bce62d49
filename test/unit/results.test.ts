import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureReport, parseReport, successReport } from '../../src/restic/results.ts';
import { BACKUP_SUMMARY, terminatedPod } from '../support/fixtures.ts';

describe('termination reports', () => {
  it('reads a backup summary', () => {
    const report = parseReport(BACKUP_SUMMARY);
    assert.equal(report.kind, 'backup');
  });
  it('treats anything else as text', () => {
    assert.deepEqual(parseReport('restic backup failed (exit 1): boom\n'), { kind: 'text', message: 'restic backup failed (exit 1): boom' });
    assert.deepEqual(parseReport('{"message_type":"status"}'), { kind: 'text', message: '{"message_type":"status"}' });
  });
  it('takes the newest failed attempt', () => {
    const pods = [terminatedPod('ns', 'u', 1, 'first try', 'p1', '2026-11-29T10:00:00Z'), terminatedPod('ns', 'u', 1, 'second try', 'p2', '2026-11-29T10:05:00Z')];
    assert.deepEqual(failureReport(pods), { message: 'second try' });
  });
  it('names the exit code when the Pod left no message', () => {
    assert.deepEqual(failureReport([terminatedPod('ns', 'u', 137, '')]), { message: 'restic exited with code 137 (Error)' });
  });
  it('reads the reason the script named', () => {
    const message = JSON.stringify({ message_type: 'failure', reason: 'SnapshotNotFound', message: 'snapshot abc is not in the repository' });
    assert.deepEqual(failureReport([terminatedPod('ns', 'u', 11, message)]), { message: 'snapshot abc is not in the repository', reason: 'SnapshotNotFound' });
  });
  it("reads what the backup Job's forget, prune and check did", () => {
    const message = JSON.stringify({ message_type: 'backsnap', backup: JSON.parse(BACKUP_SUMMARY), retention: { kept: 2, removed: 1, oldest: '2026-11-29T10:00:00.5Z' }, prune: { ok: true }, check: { error: 'pack abc: hash mismatch' } });
    const report = parseReport(message);
    assert.equal(report.kind, 'backup');
    assert.deepEqual(report.kind === 'backup' ? [report.retention, report.prune, report.check] : [], [{ kept: 2, removed: 1, oldest: '2026-11-29T10:00:00.5Z' }, { ok: true }, { error: 'pack abc: hash mismatch' }]);
  });
  it('ignores failed attempts when one succeeded', () => {
    const pods = [terminatedPod('ns', 'u', 1, 'flaky', 'p1'), terminatedPod('ns', 'u', 0, BACKUP_SUMMARY, 'p2')];
    assert.equal(successReport(pods)?.kind, 'backup');
  });
});
