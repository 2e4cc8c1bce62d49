// Benchmark: latency of the PVCBackup sync hook as the number of related PVCBackups grows (the
// concurrency gate reads them all). Prints numbers; asserts nothing. Run: npm run bench
import { pino } from 'pino';
import { buildServers } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';

const parsed = parseConfig({ BACKSNAP_REPOSITORY_BASE: 's3:http://s3.local/bench', BACKSNAP_RESTIC_PASSWORD: 'bench', BACKSNAP_HOOK_TOKEN: 'bench', BACKSNAP_LOG_LEVEL: 'silent' });
if (!parsed.ok) throw new Error(parsed.errors.join('; '));
const app = buildServers({ config: parsed.config, logger: pino({ level: 'silent' }), now: () => new Date('2026-11-29T12:00:00Z') }).hooks;

function backup(i: number, finished: boolean) {
  return {
    apiVersion: 'backsnap.skyb.it/v1alpha1',
    kind: 'PVCBackup',
    metadata: { name: `pvc-${i}-1795917600`, namespace: `ns-${i % 50}`, uid: `uid-${i}`, creationTimestamp: '2026-11-29T02:00:00Z', annotations: { 'backsnap.skyb.it/scheduled-for': '2026-11-29T02:00:00Z' } },
    spec: { pvc: `pvc-${i}`, ttl: '72h' },
    status: finished ? { phase: 'Succeeded', result: 'Succeeded', startedAt: '2026-11-29T02:00:00Z', finishedAt: '2026-11-29T02:01:00Z', duration: '1m0s' } : {},
  };
}

const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'apps', uid: 'u' }, spec: { resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound', capacity: { storage: '1Gi' } } };
process.stdout.write('related PVCBackups | request MiB | median ms | p95 ms\n');
for (const count of [10, 100, 1000, 5000]) {
  const others = Object.fromEntries(Array.from({ length: count }, (_, i) => backup(i, i % 10 !== 0)).map((b) => [`${b.metadata.namespace}/${b.metadata.name}`, b]));
  const body = JSON.stringify({
    controller: { metadata: { name: 'bench' } },
    parent: { apiVersion: 'backsnap.skyb.it/v1alpha1', kind: 'PVCBackup', metadata: { name: 'me', namespace: 'apps', uid: 'me', creationTimestamp: '2026-11-29T12:00:00Z' }, spec: { pvc: 'data' } },
    children: {},
    related: { 'PersistentVolumeClaim.v1': { 'apps/data': pvc }, 'PVCBackup.backsnap.skyb.it/v1alpha1': others },
  });
  const times: number[] = [];
  for (let run = 0; run < 30; run++) {
    const start = performance.now();
    const reply = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: body, headers: { 'content-type': 'application/json', authorization: 'Bearer bench' } });
    if (reply.statusCode !== 200) throw new Error(reply.body);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(1);
  process.stdout.write(`${count} | ${(body.length / 1024 / 1024).toFixed(2)} | ${at(0.5)} | ${at(0.95)}\n`);
}
