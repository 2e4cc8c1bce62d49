// npm run bench:record-delay — how long after a backup Job finishes its result is recorded on
// the PVCBackup, on the real stack (real Metacontroller): normally, and after a 60 s outage of
// the hook service with and without the nudge (BACKSNAP_NUDGE_INTERVAL). Times are taken on this
// process's clock from watch events: the Job's Complete condition appearing, the result appearing.
// Not part of CI: the outage without the nudge waits for Metacontroller's backoff (minutes).
import { startStack, type Stack } from '../test/e2e/stack.ts';
import { createBackup, createNamespace, createPvc, finished, runInVolume, until, waitForJob } from '../test/e2e/support.ts';
import { waitFor } from '../test/env/processes.ts';

const NS = 'bench-delay';
const OUTAGE_MS = Number(process.env['BENCH_OUTAGE_MS'] ?? 60_000);
const NORMAL_RUNS = Number(process.env['BENCH_RUNS'] ?? 3);

interface Watched {
  jobDone: Map<string, number>;
  recorded: Map<string, number>;
}

function watchTimes(stack: Stack): Watched & { stop(): void } {
  const jobDone = new Map<string, number>();
  const recorded = new Map<string, number>();
  type Job = { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } };
  type Run = { metadata: { name: string }; status?: { result?: string } };
  const jobs = stack.kube.watch<Job>(`/apis/batch/v1/namespaces/${NS}/jobs`, ({ object }) => {
    if (object.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && !jobDone.has(object.metadata.name)) jobDone.set(object.metadata.name, Date.now());
  }, () => {});
  const runs = stack.kube.watch<Run>(`/apis/backsnap.skyb.it/v1alpha1/namespaces/${NS}/pvcbackups`, ({ object }) => {
    if (object.status?.result !== undefined && !recorded.has(object.metadata.name)) recorded.set(object.metadata.name, Date.now());
  }, () => {});
  return { jobDone, recorded, stop: () => (jobs.stop(), runs.stop()) };
}

async function delayOf(watched: Watched, name: string): Promise<number> {
  return waitFor(`times of ${name}`, async () => {
    const done = watched.jobDone.get(`backup-${name}`);
    const at = watched.recorded.get(name);
    return done !== undefined && at !== undefined ? at - done : undefined;
  }, { timeoutMs: 10_000 });
}

async function scenario(label: string, hookEnv: Record<string, string>, outage: boolean): Promise<{ label: string; delays: number[]; afterRestart?: number }> {
  const stack = await startStack({ hookEnv });
  const watched = watchTimes(stack);
  try {
    await createNamespace(stack, NS);
    await createPvc(stack, NS, 'data');
    await runInVolume(stack, NS, 'data', 'fill', 'head -c 50000000 /dev/urandom > /data/random.bin');
    if (!outage) {
      const delays: number[] = [];
      for (let i = 0; i < NORMAL_RUNS; i += 1) {
        await createBackup(stack, NS, `run-${i}`, { pvc: 'data' });
        await finished(stack, NS, 'pvcbackups', `run-${i}`);
        delays.push(await delayOf(watched, `run-${i}`));
      }
      return { label, delays };
    }
    await createBackup(stack, NS, 'outage', { pvc: 'data' });
    await waitForJob(stack, NS, 'backup-outage');
    const killed = Date.now();
    await stack.killHooks();
    await waitForJob(stack, NS, 'backup-outage', true);
    await until(killed, OUTAGE_MS);
    await stack.startHooks();
    const back = Date.now();
    await finished(stack, NS, 'pvcbackups', 'outage', 1_200_000);
    const delay = await delayOf(watched, 'outage');
    return { label, delays: [delay], afterRestart: (watched.recorded.get('outage') ?? back) - back };
  } finally {
    watched.stop();
    await stack.stop();
  }
}

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const results = [
  await scenario('no outage (nudge on)', {}, false),
  await scenario(`${OUTAGE_MS / 1000} s hook outage, nudge on (default 30s)`, {}, true),
  await scenario(`${OUTAGE_MS / 1000} s hook outage, nudge off`, { BACKSNAP_NUDGE_INTERVAL: '0' }, true),
];
process.stdout.write('\nJob completed → result recorded on the PVCBackup (real Metacontroller 4.17.2, resyncPeriodSeconds 600)\n');
process.stdout.write(`${'scenario'.padEnd(44)} ${'Job → result'.padEnd(28)} hook back → result\n`);
for (const r of results) {
  process.stdout.write(`${r.label.padEnd(44)} ${r.delays.map(seconds).join(', ').padEnd(28)} ${r.afterRestart === undefined ? '-' : seconds(r.afterRestart)}\n`);
}
const [, nudged, plain] = results;
if (nudged?.afterRestart !== undefined && plain?.afterRestart !== undefined) {
  process.stdout.write(`\nafter the outage: recorded ${seconds(nudged.afterRestart)} after the hook service was back with the nudge, ${seconds(plain.afterRestart)} without\n`);
}
