// npm run bench:scale — N PVCs in M namespaces, all due at one schedule slot, with K finished
// PVCBackups of history already present (created directly with their status), concurrency 10, on
// the local stack with the real Metacontroller; then the same with K = 0, so the effect of history
// is one ratio. Not part of CI (it runs for a long time). Sizes: BENCH_N, BENCH_M, BENCH_K.
// Retention, prune and check are switched off: the figures are about the control plane.
import { readFileSync } from 'node:fs';
import { startStack, type Stack } from '../test/e2e/stack.ts';
import { BACKSNAP } from '../test/e2e/support.ts';
import { waitFor } from '../test/env/processes.ts';

const N = Number(process.env['BENCH_N'] ?? 1000);
const M = Number(process.env['BENCH_M'] ?? 20);
const K = Number(process.env['BENCH_K'] ?? 10_000);
const CONCURRENCY = 10;
const say = (line: string) => process.stdout.write(`${line}\n`);

interface Figures {
  k: number;
  createdAfterSlot: number;
  succeededAfterSlot: number;
  overheadPerBackup: number;
  /** The slot's wall time per backup and place of the limit, less the mean Job time: pipelining counts, nothing is left out. */
  slotOverheadPerBackup: number;
  /** Share of the runs whose snapshot (taken ahead) was ready when they started. */
  readyAtStart: number;
  hookP50: number;
  hookP99: number;
  bytesP50: number;
  bytesP99: number;
  queueSyncs: number;
  queueP99: number;
  queueBytesP99: number;
  hookRss: number;
  metacontrollerRss: number;
  apiRequestsPerBackup: number;
  scrapeMs: number;
  /** Hook calls for the history's backups (PVCBackup controller and labeler), from Metacontroller's start. */
  historySyncs: number;
  /** Mean wall time per backup of each step of a run, from watch events on this clock. */
  phases: Record<Phase, number>;
}

/**
 * The steps of a run: started → snapshot ready → Job created → Pod running → Job complete → result.
 * A snapshot taken ahead of the start is ready before it: a step takes no time then.
 */
const PHASES = ['snapshot', 'temporary PVC and Job created', 'Pod started', 'Job ran', 'result recorded'] as const;
type Phase = (typeof PHASES)[number];
const MARKS = ['started', 'snapshotReady', 'jobCreated', 'podRunning', 'jobComplete', 'result'] as const;
type Mark = (typeof MARKS)[number];

/**
 * When each run (by its children's name, `backup-<name>` in its namespace) reached each mark, and
 * when each automatic PVCBackup was first seen and first seen finished, from watches: polling lists
 * of every PVCBackup (thousands with history) loaded the API server more than the backups did.
 */
function watchMarks(stack: Stack): { marks: Map<string, Partial<Record<Mark, number>>>; created: Map<string, number>; finished: Map<string, string>; stop: () => void } {
  const marks = new Map<string, Partial<Record<Mark, number>>>();
  const created = new Map<string, number>();
  const finished = new Map<string, string>();
  const mark = (namespace: string, child: string, which: Mark) => {
    const key = `${namespace}/${child}`;
    const entry = marks.get(key) ?? {};
    entry[which] ??= performance.now();
    marks.set(key, entry);
  };
  type Obj = { metadata: { namespace: string; name: string; labels?: Record<string, string> }; status?: Record<string, unknown> & { conditions?: { type: string; status: string }[] } };
  const watches = [
    stack.kube.watch<Obj>(`${BACKSNAP}/pvcbackups?labelSelector=backsnap.skyb.it%2Fautomatic%3Dtrue`, ({ object: o }) => {
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (!created.has(key)) created.set(key, Date.now());
      const result = o.status?.['result'];
      if (typeof result === 'string' && !finished.has(key)) finished.set(key, result);
      if (o.status?.['phase'] === 'Running') mark(o.metadata.namespace, `backup-${o.metadata.name}`, 'started');
      if (o.status?.['result'] !== undefined) mark(o.metadata.namespace, `backup-${o.metadata.name}`, 'result');
    }, () => {}),
    stack.kube.watch<Obj>('/apis/snapshot.storage.k8s.io/v1/volumesnapshots', ({ object: o }) => {
      if (o.status?.['readyToUse'] === true) mark(o.metadata.namespace, o.metadata.name, 'snapshotReady');
    }, () => {}),
    stack.kube.watch<Obj>('/apis/batch/v1/jobs', ({ object: o }) => {
      mark(o.metadata.namespace, o.metadata.name, 'jobCreated');
      if (o.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') === true) mark(o.metadata.namespace, o.metadata.name, 'jobComplete');
    }, () => {}),
    stack.kube.watch<Obj>('/api/v1/pods', ({ object: o }) => {
      const job = o.metadata.labels?.['job-name'];
      if (job !== undefined && (o.status?.['phase'] === 'Running' || o.status?.['phase'] === 'Succeeded')) mark(o.metadata.namespace, job, 'podRunning');
    }, () => {}),
  ];
  return { marks, created, finished, stop: () => watches.forEach((w) => w.stop()) };
}

function readyAtStart(marks: Map<string, Partial<Record<Mark, number>>>): number {
  const runs = [...marks.values()].filter((m) => m.started !== undefined && m.snapshotReady !== undefined);
  return runs.length === 0 ? 0 : runs.filter((m) => (m.snapshotReady ?? 0) <= (m.started ?? 0)).length / runs.length;
}

function meanPhases(marks: Map<string, Partial<Record<Mark, number>>>): Record<Phase, number> {
  const sums = PHASES.map(() => 0);
  let complete = 0;
  for (const entry of marks.values()) {
    const times = MARKS.map((m) => entry[m]);
    if (times.some((t) => t === undefined)) continue;
    complete += 1;
    let previous = times[0] ?? 0;
    for (let i = 0; i < PHASES.length; i += 1) {
      const reached = Math.max(times[i + 1] ?? 0, previous);
      sums[i] = (sums[i] ?? 0) + (reached - previous);
      previous = reached;
    }
  }
  return Object.fromEntries(PHASES.map((p, i) => [p, complete === 0 ? 0 : (sums[i] ?? 0) / complete / 1000])) as Record<Phase, number>;
}

const rssOf = (pid: number | undefined): number => {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
};

async function apiRequests(stack: Stack): Promise<number> {
  const text = await stack.kube.request<string>('GET', '/metrics');
  let total = 0;
  for (const line of String(text).split('\n')) {
    if (line.startsWith('apiserver_request_total{')) total += Number(line.split(' ').at(-1));
  }
  return total;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

async function parallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

async function round(k: number): Promise<Figures> {
  // Metacontroller starts after the history is in place: it would start backups of it otherwise.
  const stack = await startStack({ deferMetacontroller: true, hookEnv: { BACKSNAP_MAX_RUNNING_BACKUPS: String(CONCURRENCY), BACKSNAP_RETENTION: 'all', BACKSNAP_PRUNE_INTERVAL: '0', BACKSNAP_CHECK_INTERVAL: '0', BACKSNAP_LOG_LEVEL: 'info', BACKSNAP_SNAPSHOT_TIMEOUT: '15m', BACKSNAP_START_GRACE: '5m' } });
  try {
    const namespaces = Array.from({ length: M }, (_, i) => `scale-${i}`);
    for (const ns of namespaces) await stack.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const pvcs = Array.from({ length: N }, (_, i) => ({ ns: namespaces[i % M] ?? '', name: `pvc-${i}` }));
    await parallel(pvcs, 20, async ({ ns, name }) => {
      await stack.kube.create(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } });
    });
    await waitFor(`${N} PVCs bound`, async () => ((await stack.kube.list<{ status?: { phase?: string } }>('/api/v1/persistentvolumeclaims')).items.filter((p) => p.status?.phase === 'Bound').length >= N ? true : undefined), { timeoutMs: 1_800_000, intervalMs: 2000 });
    say(`  K=${k}: ${N} PVCs bound`);
    const history = Array.from({ length: k }, (_, i) => ({ ns: namespaces[i % M] ?? '', pvc: `pvc-${i % N}`, name: `history-${i}` }));
    await parallel(history, 20, async ({ ns, pvc, name }) => {
      const path = `${BACKSNAP}/namespaces/${ns}/pvcbackups`;
      // With the status and labels of a retired backup: history as it stands in a running cluster.
      const labels = { 'backsnap.skyb.it/pvc': pvc, 'backsnap.skyb.it/finished': 'true', 'backsnap.skyb.it/retired': 'true' };
      const created = await stack.kube.create<{ metadata: { resourceVersion: string } }>(path, { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name, labels }, spec: { pvc, ttl: '720h' } });
      const conditions = [
        { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'history', lastTransitionTime: '2026-11-01T02:01:00Z' },
        { type: 'Failed', status: 'False', reason: 'NotFailed', message: '', lastTransitionTime: '2026-11-01T02:00:00Z' },
        { type: 'Retired', status: 'True', reason: 'Retired', message: 'history', lastTransitionTime: '2026-11-01T02:02:00Z' },
      ];
      const status = { phase: 'Succeeded', result: 'Succeeded', startedAt: '2026-11-01T02:00:00Z', finishedAt: '2026-11-01T02:01:00Z', duration: '1m0s', message: 'history', conditions, observedGeneration: 1 };
      await stack.kube.request('PUT', `${path}/${name}/status`, { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name, namespace: ns, labels, resourceVersion: created.metadata.resourceVersion }, spec: { pvc, ttl: '720h' }, status });
    });
    say(`  K=${k}: ${k} finished PVCBackups of history`);
    await stack.startMetacontroller();

    // One slot for all: the start of the minute after next.
    const slot = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000);
    const schedule = `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`;
    for (const ns of namespaces) await stack.kube.patch(`/api/v1/namespaces/${ns}`, { metadata: { annotations: { 'backsnap.skyb.it/schedule': schedule } } });
    // The Jobs' own run time, from a watch: a succeeded backup's Job is deleted soon after.
    const jobTimes = new Map<string, number>();
    type JobEvent = { metadata: { namespace: string; name: string }; status?: { startTime?: string; completionTime?: string } };
    const jobWatch = stack.kube.watch<JobEvent>('/apis/batch/v1/jobs', ({ object }) => {
      const { startTime, completionTime } = object.status ?? {};
      if (startTime !== undefined && completionTime !== undefined) jobTimes.set(`${object.metadata.namespace}/${object.metadata.name}`, Date.parse(completionTime) - Date.parse(startTime));
    }, () => {});
    const runMarks = watchMarks(stack);
    const apiBefore = await apiRequests(stack);
    const logStart = readFileSync(stack.hooks.logPath, 'utf8').length;
    let hookRss = 0;
    let metacontrollerRss = 0;
    const sampler = setInterval(() => {
      hookRss = Math.max(hookRss, rssOf(stack.hooks.managed.child.pid));
      metacontrollerRss = Math.max(metacontrollerRss, rssOf(stack.metacontroller.managed.child.pid));
    }, 500);
    try {
      type Run = { metadata: { name: string; namespace: string; creationTimestamp: string }; status?: { result?: string; startedAt?: string; finishedAt?: string } };
      await waitFor(`${N} PVCBackups of the slot`, async () => (runMarks.created.size >= N ? true : undefined), { timeoutMs: 1_800_000, intervalMs: 200 });
      const created = Math.max(...runMarks.created.values());
      say(`  K=${k}: ${N} PVCBackups created ${((created - slot.getTime()) / 1000).toFixed(1)} s after the slot`);
      const doneAt = await waitFor(`${N} PVCBackups to finish`, async () => (runMarks.finished.size >= N ? Date.now() : undefined), { timeoutMs: 7_200_000, intervalMs: 500 });
      const runs = (await stack.kube.list<Run>(`${BACKSNAP}/pvcbackups?labelSelector=backsnap.skyb.it%2Fautomatic%3Dtrue`)).items;
      const done = { at: doneAt, runs: runs.filter((r) => r.status?.result === 'Succeeded') };
      if (done.runs.length < N) say(`  K=${k}: ${N - done.runs.length} of ${N} backups FAILED (see their conditions)`);
      const scrapeStart = performance.now();
      await (await fetch(`${stack.hooks.metricsUrl}/metrics`)).text();
      const scrapeMs = performance.now() - scrapeStart;
      const apiAfter = await apiRequests(stack);
      jobWatch.stop();
      runMarks.stop();
      // Control-plane time: a run's own span (start to finish) minus its Job's run time.
      const jobTimeOf = (r: Run) => jobTimes.get(`${r.metadata.namespace}/backup-${r.metadata.name}`) ?? 0;
      const spans = done.runs.map((r) => Date.parse(r.status?.finishedAt ?? '') - Date.parse(r.status?.startedAt ?? '') - jobTimeOf(r));
      const meanJobSeconds = done.runs.reduce((sum, r) => sum + jobTimeOf(r), 0) / Math.max(1, done.runs.length) / 1000;
      const fullLog = readFileSync(stack.hooks.logPath, 'utf8');
      const log = fullLog.slice(logStart).split('\n');
      const decisionsOf = (hook: string) => log.filter((l) => l.includes(`"hook":"${hook}"`)).map((l) => JSON.parse(l) as { ms: number; bytes: number });
      const decisions = decisionsOf('/hooks/pvcbackup/sync');
      // From the log's start: Metacontroller's first syncs of the history come before the slot.
      const historySyncs = fullLog.split('\n').filter((l) => /"hook":"\/hooks\/pvcbackup(-labels)?\/sync"/.test(l) && /"object":"[^"/]*\/history-/.test(l)).length;
      const queue = decisionsOf('/hooks/backup-queue/sync');
      return {
        k,
        createdAfterSlot: (created - slot.getTime()) / 1000,
        succeededAfterSlot: (done.at - slot.getTime()) / 1000,
        overheadPerBackup: spans.reduce((a, b) => a + b, 0) / spans.length / 1000,
        slotOverheadPerBackup: ((done.at - slot.getTime()) * CONCURRENCY) / N / 1000 - meanJobSeconds,
        readyAtStart: readyAtStart(runMarks.marks),
        hookP50: quantile(decisions.map((d) => d.ms), 0.5),
        hookP99: quantile(decisions.map((d) => d.ms), 0.99),
        bytesP50: quantile(decisions.map((d) => d.bytes), 0.5),
        bytesP99: quantile(decisions.map((d) => d.bytes), 0.99),
        queueSyncs: queue.length,
        queueP99: quantile(queue.map((d) => d.ms), 0.99),
        queueBytesP99: quantile(queue.map((d) => d.bytes), 0.99),
        hookRss,
        metacontrollerRss,
        apiRequestsPerBackup: (apiAfter - apiBefore) / N,
        scrapeMs,
        historySyncs,
        phases: meanPhases(runMarks.marks),
      };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await stack.stop();
  }
}

const rows: [string, (f: Figures) => number, string][] = [
  ['all PVCBackups created after the slot', (f) => f.createdAfterSlot, 's'],
  ['all PVCBackups finished after the slot', (f) => f.succeededAfterSlot, 's'],
  ['control-plane time per backup (run span − Job time)', (f) => f.overheadPerBackup, 's'],
  // The snapshot step is external-snapshotter's chain (snapshot-controller, csi-snapshotter, the
  // driver, back), not our hooks: docs/performance.md, "Where a backup's control-plane time goes".
  ['  of it outside the CSI snapshot (− snapshot step)', (f) => f.overheadPerBackup - f.phases.snapshot, 's'],
  ['snapshots ready at the start (taken ahead)', (f) => f.readyAtStart * 100, '%'],
  // Counts everything a backup's place in the limit waits for, before or after its start.
  [`slot time × ${CONCURRENCY} / N − mean Job time`, (f) => f.slotOverheadPerBackup, 's'],
  // The queue's hand-over of a freed place (three queue syncs, docs/design-notes.md) and the slot's start.
  ['  of it between runs (− run span − Job time)', (f) => f.slotOverheadPerBackup - f.overheadPerBackup, 's'],
  ['PVCBackup sync hook p50', (f) => f.hookP50, 'ms'],
  ['PVCBackup sync hook p99', (f) => f.hookP99, 'ms'],
  ['PVCBackup sync request p50', (f) => f.bytesP50 / 1024, 'KiB'],
  ['PVCBackup sync request p99', (f) => f.bytesP99 / 1024, 'KiB'],
  ['backup queue syncs', (f) => f.queueSyncs, ''],
  ['backup queue sync hook p99', (f) => f.queueP99, 'ms'],
  ['backup queue sync request p99', (f) => f.queueBytesP99 / 1024, 'KiB'],
  ['hook service peak RSS', (f) => f.hookRss / 1048576, 'MiB'],
  ['Metacontroller peak RSS', (f) => f.metacontrollerRss / 1048576, 'MiB'],
  ['API server requests per backup (node agent stand-in included)', (f) => f.apiRequestsPerBackup, ''],
  ['/metrics scrape', (f) => f.scrapeMs, 'ms'],
  ['hook calls for the history (PVCBackup sync and labeler)', (f) => f.historySyncs, ''],
  ...PHASES.map((phase): [string, (f: Figures) => number, string] => [`  per backup: ${phase}`, (f) => f.phases[phase], 's']),
];
const cell = (f: Figures, get: (f: Figures) => number, unit: string) => `${get(f).toFixed(2)} ${unit}`.padStart(10);

say(`scale benchmark: N=${N} PVCs in M=${M} namespaces, concurrency ${CONCURRENCY}, history K=0 and K=${K}`);
// Each round's figures as soon as it ends: a long run stopped early still says something.
const without = await round(0);
for (const [name, get, unit] of rows) say(`  K=0: ${name.padEnd(52)} ${cell(without, get, unit)}`);
const withHistory = await round(K);
say(`\n${'figure'.padEnd(52)} ${'K=0'.padStart(10)} ${`K=${K}`.padStart(10)}  ratio`);
for (const [name, get, unit] of rows) {
  const a = get(without);
  const b = get(withHistory);
  say(`${name.padEnd(52)} ${cell(without, get, unit)} ${cell(withHistory, get, unit)}  ${(a === 0 ? 0 : b / a).toFixed(2)}x`);
}
