// The local sandbox (npm run sandbox): starts the whole stack on loopback, backs up a demo PVC,
// restores it into a new PVC, verifies the files byte for byte and leaves everything running
// for a look around until Ctrl-C. `--once` exits after the check (0 when it passed).
import { join } from 'node:path';
import { cacheBinDir } from '../test/env/controlplane.ts';
import { HOUSEKEEPING_TOKEN, startStack, type Stack } from '../test/e2e/stack.ts';
import { type Backup, type Restore, createBackup, createNamespace, createPvc, createRestore, finished, volumeDir, runInVolume, volumeManifest } from '../test/e2e/support.ts';

const once = process.argv.includes('--once');
const NS = 'demo';
const say = (line: string) => process.stdout.write(`${line}\n`);

async function demo(stack: Stack): Promise<boolean> {
  say(`\n1. namespace ${NS} with PVC "app-data", filled with files by a Job`);
  await createNamespace(stack, NS);
  await createPvc(stack, NS, 'app-data');
  await runInVolume(stack, NS, 'app-data', 'fill', `set -e
mkdir -p /data/site/images /data/db
echo '<h1>hello from backsnap-ts</h1>' > /data/site/index.html
head -c 5000000 /dev/urandom > /data/site/images/photo.jpg
head -c 20000000 /dev/urandom > /data/db/data.bin && chmod 600 /data/db/data.bin
ln -s site/index.html /data/home`);

  say('2. PVCBackup "app-data-now": snapshot → temporary PVC → restic Job → S3 (MinIO)');
  await createBackup(stack, NS, 'app-data-now', { pvc: 'app-data', ttl: '24h' });
  const backup = await finished<Backup>(stack, NS, 'pvcbackups', 'app-data-now');
  say(`   ${backup.status?.result}: ${backup.status?.message} (took ${backup.status?.duration})`);
  if (backup.status?.result !== 'Succeeded') return false;

  say('3. PVCRestore "app-data-restore" into the new PVC "app-data-copy"');
  await createRestore(stack, NS, 'app-data-restore', { sourcePvc: 'app-data', targetPvc: 'app-data-copy' });
  const restore = await finished<Restore>(stack, NS, 'pvcrestores', 'app-data-restore');
  say(`   ${restore.status?.result}: ${restore.status?.message} (took ${restore.status?.duration})`);
  if (restore.status?.result !== 'Succeeded') return false;

  const original = volumeManifest(await volumeDir(stack, NS, 'app-data'));
  const copy = volumeManifest(await volumeDir(stack, NS, 'app-data-copy'));
  const same = JSON.stringify(original) === JSON.stringify(copy);
  say(`4. verify: ${Object.keys(original).length} entries compared (content, modes, owners, links): ${same ? 'identical' : 'DIFFERENT'}`);
  if (!same) say(JSON.stringify({ original, copy }, null, 2));
  // Exactly once: one Job per run, one restic snapshot per successful backup (throws otherwise).
  const audit = await stack.verify();
  say(`5. exactly once: ${audit.jobs} Jobs for ${audit.runs} runs; ${audit.repositories.map((r) => `${r.snapshots} restic snapshot(s) for ${r.successfulBackups} successful backup(s), ${r.removed} forgotten`).join('; ')}`);
  return same;
}

function lookAround(stack: Stack): void {
  const kubectl = `${join(cacheBinDir(), 'kubectl')} --kubeconfig ${stack.controlPlane.kubeconfigPath}`;
  say(`\nLook around (the stack keeps running until Ctrl-C):
  ${kubectl} get pvcbackups,pvcrestores -A
  ${kubectl} describe pvcbackup -n ${NS} app-data-now
  ${kubectl} get pvc,jobs,volumesnapshots -n ${NS}
  ${kubectl} annotate namespace ${NS} backsnap.skyb.it/schedule='* * * * *'   # a backup every minute
  curl ${stack.hooks.metricsUrl}/metrics | grep backsnap_backup
  curl -H 'Authorization: Bearer ${HOUSEKEEPING_TOKEN}' ${stack.hooks.operationsUrl}/debug/schedules
Logs: ${stack.hooks.logPath} (hook service), ${stack.metacontroller.logPath} (Metacontroller)`);
}

const started = Date.now();
say('Starting the local control plane with the CSI driver, MinIO, the node agent, Metacontroller and the hook service...');
const stack = await startStack({ log: (line) => say(`   ${line}`) });
let ok = false;
try {
  ok = await demo(stack);
  say(`\n${ok ? 'Backup and restore verified' : 'The demo FAILED'} in ${Math.round((Date.now() - started) / 1000)}s.`);
} catch (error) {
  say(`\nThe demo FAILED: ${error instanceof Error ? error.message : String(error)}`);
}
if (once || !ok) {
  await stack.stop();
  process.exit(ok ? 0 : 1);
}
lookAround(stack);
// The stack's processes do not keep Node's event loop alive; this does, until Ctrl-C.
const keepAlive = setInterval(() => {}, 1 << 30);
const shutdown = async () => {
  say('\nStopping...');
  clearInterval(keepAlive);
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
