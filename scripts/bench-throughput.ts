// npm run bench (second part): throughput of the service's PVCBackup sync route against a bare
// Fastify route on the same golden payload — it parses the same request and sends the same
// answer, precomputed — side by side in one run. autocannon runs in a child process (a core of its
// own); each server answers in this one. The service logs its decision line at `info` with the
// production logger (src/logger.ts), into /dev/null: the serialisation and the write are paid,
// a terminal is not. Besides requests per second (which
// drift with the machine's speed) it prints the server's CPU time per request, which does not.
// With taskset (util-linux) the servers run on the first core and autocannon on the second: left
// to the scheduler, the two share a core in some rounds, and the figures jump by half.
import { execFile } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildServers } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { GOLDEN_CASES } from '../test/golden/payloads.ts';

const run = promisify(execFile);
const pinned = await run('taskset', ['-a', '-cp', '0', String(process.pid)]).then(() => true, () => false);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
/** Rounds of every server in turn; the median is reported (the machine's speed drifts). */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TOKEN = 'bench-token';
/** The yardstick's CPU per request: 15–20 µs left the bare route at 0.74–0.78x on the machine measured. */
const BUSY_MICROS = Number(process.env['BENCH_BUSY_MICROS'] ?? 15);

function service(level: string): FastifyInstance {
  const parsed = parseConfig({ BACKSNAP_REPOSITORY_BASE: 's3:http://s3.local/bench', BACKSNAP_RESTIC_PASSWORD: 'bench', BACKSNAP_HOOK_TOKEN: TOKEN, BACKSNAP_LOG_LEVEL: level });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return buildServers({ config: parsed.config, logger: createLogger(level, openSync('/dev/null', 'w')), now: () => new Date('2026-11-29T07:24:00Z') }).hooks;
}

/** `busyMicros` > 0 spends that much CPU per request in a loop that touches no memory: a yardstick. */
function bare(answer: unknown, busyMicros = 0): FastifyInstance {
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/hooks/pvcbackup/sync', async () => {
    const until = performance.now() + busyMicros / 1000;
    while (busyMicros > 0 && performance.now() < until);
    return answer;
  });
  return app;
}

interface Sample {
  rps: number;
  /** Server CPU (user + system) per request, µs. */
  cpu: number;
}

async function measure(app: FastifyInstance, bodyFile: string): Promise<Sample> {
  // Warm up first: the JIT compiles the service's larger code path in the first second or two.
  const payload = readFileSync(bodyFile, 'utf8');
  for (let i = 0; i < 3000; i += 1) await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const cli = join(new URL('../node_modules/autocannon/autocannon.js', import.meta.url).pathname);
    const before = process.cpuUsage();
    const command = [process.execPath, cli, '--json', '-c', '10', '-d', String(SECONDS), '-m', 'POST', '-H', 'content-type=application/json', '-H', `authorization=Bearer ${TOKEN}`, '-i', bodyFile, `http://127.0.0.1:${port}/hooks/pvcbackup/sync`];
    const [file, ...args] = pinned ? ['taskset', '-c', '1', ...command] : command;
    const { stdout } = await run(file ?? process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
    const used = process.cpuUsage(before);
    const result = JSON.parse(stdout) as { requests: { average: number; total: number }; non2xx: number };
    if (result.non2xx > 0) throw new Error(`${result.non2xx} answers were not 2xx`);
    return { rps: result.requests.average, cpu: (used.user + used.system) / result.requests.total };
  } finally {
    await app.close();
  }
}

const golden = GOLDEN_CASES.find((c) => c.name === 'pvcbackup-first-sync');
if (golden === undefined) throw new Error('no golden pvcbackup-first-sync payload');
const bodyFile = join(tmpdir(), 'backsnap-bench-golden.json');
writeFileSync(bodyFile, JSON.stringify(golden.body()));
const answer = (await service('silent').inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: golden.body() as object, headers: { authorization: `Bearer ${TOKEN}` } })).json<unknown>();
const servers: [string, () => FastifyInstance][] = [
  ['bare Fastify route (same request and answer)', () => bare(answer)],
  // What the 0.8x target leaves for authentication, validation, the hook, the log line and the
  // metrics together, in µs of CPU inside the server (cache misses included), on this machine.
  [`bare route + ${BUSY_MICROS} µs busy loop per request`, () => bare(answer, BUSY_MICROS)],
  ['backsnap-ts sync hook (log level info)', () => service('info')],
  ['backsnap-ts sync hook (log level warn)', () => service('warn')],
];
const samples = new Map<string, Sample[]>(servers.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, make] of servers) samples.get(name)?.push(await measure(make(), bodyFile));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const of = (name: string) => samples.get(name) ?? [];
const [baseName] = servers[0] ?? ['', bare];
const baseRps = median(of(baseName).map((s) => s.rps));
const baseCpu = median(of(baseName).map((s) => s.cpu));
process.stdout.write(`\nthe golden pvcbackup-first-sync payload: median of ${ROUNDS} interleaved rounds of ${SECONDS} s, 10 connections, ${pinned ? 'server and load generator pinned to a core each' : 'not pinned (no taskset)'}\n`);
process.stdout.write(`${'server'.padEnd(46)} ${'req/s'.padStart(7)}  ratio   ${'CPU µs/req'.padStart(10)}  ratio (bare CPU / this CPU)\n`);
for (const [name] of servers) {
  const rps = median(of(name).map((s) => s.rps));
  const cpu = median(of(name).map((s) => s.cpu));
  process.stdout.write(`${name.padEnd(46)} ${rps.toFixed(0).padStart(7)}  ${(rps / baseRps).toFixed(2)}x  ${cpu.toFixed(1).padStart(10)}  ${(baseCpu / cpu).toFixed(2)}x\n`);
}
