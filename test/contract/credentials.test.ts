// What the per-run Secret carries: the shared credentials by default (backsnap-compatible), or a
// password of the repository's namespace with BACKSNAP_PER_NAMESPACE_PASSWORDS, also for a
// cross-namespace restore (the source namespace's, by its consent).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Secret } from '../../src/kube/types.ts';
import { namespacePassword } from '../../src/restic/credentials.ts';
import { admissionTickets, BACKUP_CHILD_GROUPS, RESTORE_CHILD_GROUPS, SECRET_VALUES, backup, namespace, pvc, restore, syncRequest, testApp, testConfig } from '../support/fixtures.ts';
import { post, type SyncAnswer } from '../support/hooks.ts';

const shared = SECRET_VALUES[0] ?? '';
const perNamespace = testApp(testConfig({ BACKSNAP_PER_NAMESPACE_PASSWORDS: 'true' }));

function secretOf(answer: SyncAnswer<unknown>): Record<string, string> {
  const secret = answer.children.find((c) => c.kind === 'Secret') as Secret | undefined;
  assert.ok(secret, 'a Secret');
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

const teamABackup = backup('b', { pvc: 'data' }, {}, 'team-a');

describe('credentials of a run', () => {
  it('derives a different password per namespace, deterministically', () => {
    assert.equal(namespacePassword('p', 'a'), namespacePassword('p', 'a'));
    assert.notEqual(namespacePassword('p', 'a'), namespacePassword('p', 'b'));
    assert.notEqual(namespacePassword('p', 'a'), namespacePassword('q', 'a'));
  });

  it('gives a backup the shared password by default', async () => {
    const answer = await post<SyncAnswer<unknown>>(testApp(), '/hooks/pvcbackup/sync', syncRequest(teamABackup, [], [pvc('data', 'team-a'), ...admissionTickets(teamABackup)], BACKUP_CHILD_GROUPS));
    assert.equal(secretOf(answer)['RESTIC_PASSWORD'], shared);
  });

  it("gives a backup its namespace's password, never the shared one", async () => {
    const answer = await post<SyncAnswer<unknown>>(perNamespace, '/hooks/pvcbackup/sync', syncRequest(teamABackup, [], [pvc('data', 'team-a'), ...admissionTickets(teamABackup)], BACKUP_CHILD_GROUPS));
    const env = secretOf(answer);
    assert.equal(env['RESTIC_PASSWORD'], namespacePassword(shared, 'team-a'));
    assert.ok(!Object.values(env).includes(shared), 'the shared password is not in the Secret');
    assert.equal(env['RESTIC_REPOSITORY'], 's3:http://minio.backsnap:9000/backups/team-a/data');
  });

  it("gives a cross-namespace restore the source namespace's password", async () => {
    const parent = restore('r', { sourcePvc: 'data', sourceNamespace: 'team-a', targetPvc: 'copy' }, {}, 'team-b');
    const related = [namespace('team-b'), namespace('team-a', { 'backsnap.skyb.it/allow-restore-to': 'team-b' }), pvc('data', 'team-a')];
    const answer = await post<SyncAnswer<unknown>>(perNamespace, '/hooks/pvcrestore/sync', syncRequest(parent, [], related, RESTORE_CHILD_GROUPS));
    assert.equal(secretOf(answer)['RESTIC_PASSWORD'], namespacePassword(shared, 'team-a'));
  });
});
