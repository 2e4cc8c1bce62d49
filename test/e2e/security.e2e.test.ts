// Security on the real stack, configured as deploy/ ships it: hook calls without the token are
// refused (Metacontroller, with the token from the credentials Secret, works), the token rotates
// without a failed sync, and with per-namespace passwords a namespace's backup Secret cannot open
// another namespace's repository while backups and restores work in both and across them.
// verifyAndStop also checks that no credential appears in a log, a metric or a non-Secret object.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Watching } from '../env/kube-rest.ts';
import { waitFor } from '../env/processes.ts';
import { restic } from './audit.ts';
import { CREDENTIALS_SECRET, OPERATOR_NAMESPACE, startStack, type Stack } from './stack.ts';
import {
  type Backup, type Restore, createBackup, createNamespace, createPvc, createRestore, finished, keepLogsOfFailures, runInVolume, verifyAndStop, volumeDir, volumeManifest,
} from './support.ts';

const A = 'team-a';
const B = 'team-b';

/** restic with exactly the environment of a Job's Secret; returns restic's exit code. */
async function resticWith(env: Record<string, string>, repository: string): Promise<number> {
  return restic({ url: repository, env }, ['snapshots', '--json', '--no-lock']).then(
    () => 0,
    (error: unknown) => (error as { code?: number }).code ?? -1,
  );
}

describe('security', () => {
  let stack: Stack;
  let secrets: Watching;
  /** The data of every run's Secret, by namespace/name, captured while it existed. */
  const runSecrets = new Map<string, Record<string, string>>();

  before(async () => {
    stack = await startStack({ hookEnv: { BACKSNAP_PER_NAMESPACE_PASSWORDS: 'true', BACKSNAP_MAX_RUNNING_BACKUPS: '2' }, log: (line) => process.stderr.write(`# ${line}\n`) });
    secrets = stack.kube.watch<{ metadata: { namespace: string; name: string }; data?: Record<string, string> }>('/api/v1/secrets', ({ object }) => {
      if (object.data?.['RESTIC_PASSWORD'] === undefined) return;
      runSecrets.set(`${object.metadata.namespace}/${object.metadata.name}`, Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])));
    }, () => {});
    for (const ns of [A, B]) {
      await createNamespace(stack, ns);
      await createPvc(stack, ns, 'data');
      await runInVolume(stack, ns, 'data', 'fill', `echo ${ns} > /data/owner && head -c 1000000 /dev/urandom > /data/random.bin`);
    }
  });
  afterEach(keepLogsOfFailures(() => stack));
  after(async () => {
    secrets?.stop();
    await verifyAndStop(stack);
  });

  it('refuses a hook call without the bearer token, and answers Metacontroller, which sends it', async () => {
    const body = JSON.stringify({ controller: { metadata: { name: 'x' } }, parent: { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name: 'made-up', namespace: A, uid: 'u' }, spec: { pvc: 'data' } }, children: {}, related: {} });
    const post = (headers: Record<string, string>) => fetch(`${stack.hooks.url}/hooks/pvcbackup/sync`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const refused = await post({});
    assert.equal(refused.status, 401);
    assert.doesNotMatch(await refused.text(), /RESTIC|AWS/);
    assert.equal((await post({ authorization: 'Bearer guessed' })).status, 401);
    assert.equal((await post({ authorization: `Bearer ${stack.hookEnv['BACKSNAP_HOOK_TOKEN']}` })).status, 200);
    await createBackup(stack, A, 'through-metacontroller', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, A, 'pvcbackups', 'through-metacontroller')).status?.result, 'Succeeded');
  });

  it("with per-namespace passwords, namespace A's backup Secret cannot open namespace B's repository", async () => {
    await createBackup(stack, B, 'b-first', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, B, 'pvcbackups', 'b-first')).status?.result, 'Succeeded');
    const secretOfA = await waitFor("A's backup Secret", async () => runSecrets.get(`${A}/backup-through-metacontroller`));
    const secretOfB = await waitFor("B's backup Secret", async () => runSecrets.get(`${B}/backup-b-first`));
    assert.notEqual(secretOfA['RESTIC_PASSWORD'], secretOfB['RESTIC_PASSWORD']);
    assert.notEqual(secretOfA['RESTIC_PASSWORD'], stack.hookEnv['BACKSNAP_RESTIC_PASSWORD'], 'not the shared password');
    const repositoryOfB = secretOfB['RESTIC_REPOSITORY'] ?? '';
    assert.equal(await resticWith(secretOfB, repositoryOfB), 0, "B's Secret opens B's repository");
    assert.equal(await resticWith(secretOfA, repositoryOfB), 12, "A's Secret does not open B's repository (restic: wrong password)");
    assert.equal(await resticWith(secretOfA, secretOfA['RESTIC_REPOSITORY'] ?? ''), 0);
  });

  it('restores in both namespaces, and across them with the source namespace\'s consent', async () => {
    for (const ns of [A, B]) {
      await createRestore(stack, ns, 'copy', { sourcePvc: 'data', targetPvc: 'data-copy' });
      const restore = await finished<Restore>(stack, ns, 'pvcrestores', 'copy');
      assert.equal(restore.status?.result, 'Succeeded', restore.status?.message);
      assert.deepEqual(volumeManifest(await volumeDir(stack, ns, 'data-copy')), volumeManifest(await volumeDir(stack, ns, 'data')));
    }
    await stack.kube.patch(`/api/v1/namespaces/${A}`, { metadata: { annotations: { 'backsnap.skyb.it/allow-restore-to': B } } });
    await createRestore(stack, B, 'from-a', { sourcePvc: 'data', sourceNamespace: A, targetPvc: 'data-of-a' });
    const across = await finished<Restore>(stack, B, 'pvcrestores', 'from-a');
    assert.equal(across.status?.result, 'Succeeded', across.status?.message);
    assert.deepEqual(volumeManifest(await volumeDir(stack, B, 'data-of-a')), volumeManifest(await volumeDir(stack, A, 'data')));
    assert.equal(runSecrets.get(`${B}/restore-from-a`)?.['RESTIC_PASSWORD'], runSecrets.get(`${A}/backup-through-metacontroller`)?.['RESTIC_PASSWORD'], "the source namespace's password, for that restore only");
  });

  it('rotates the hook token without a refused sync', async () => {
    const old = stack.hookEnv['BACKSNAP_HOOK_TOKEN'] ?? '';
    const next = `rotated-${old.slice(0, 8)}-token-value`;
    // 1. The service accepts both; Metacontroller still sends the old one.
    await stack.restartHooks({ BACKSNAP_HOOK_TOKEN: next, BACKSNAP_HOOK_TOKEN_PREVIOUS: old });
    await createBackup(stack, A, 'during-rotation', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, A, 'pvcbackups', 'during-rotation')).status?.result, 'Succeeded');
    // 2. Metacontroller gets the new one from the Secret. It reads webhook credentials only when
    //    a controller starts (a changed annotation is not enough; 4.17.2 restarts a controller only
    //    when its spec changes), so it is restarted.
    await stack.kube.patch(`/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets/${CREDENTIALS_SECRET}`, { stringData: { BACKSNAP_HOOK_TOKEN: next } });
    await stack.restartMetacontroller();
    // 3. The old token is dropped: everything still works, and the old token is refused.
    await stack.restartHooks({ BACKSNAP_HOOK_TOKEN: next, BACKSNAP_HOOK_TOKEN_PREVIOUS: '' });
    await createBackup(stack, A, 'after-rotation', { pvc: 'data' });
    assert.equal((await finished<Backup>(stack, A, 'pvcbackups', 'after-rotation')).status?.result, 'Succeeded');
    const metrics = await (await fetch(`${stack.hooks.metricsUrl}/metrics`)).text();
    assert.doesNotMatch(metrics, /backsnap_hook_errors_total\{[^}]*code="401"\}/, 'Metacontroller never sent a refused token since the old one was dropped');
    const withOld = await fetch(`${stack.hooks.url}/hooks/pvcbackup/sync`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${old}` } });
    assert.equal(withOld.status, 401);
  });
});
