// npm run bench (second part): throughput of the service's PVCBackup sync route against a bare
// Fastify route on the same golden payload, side by side in one run. autocannon runs in a child
// process (a core of its own); each server answers in this one. The service logs its decision
// line at `info` into /dev/null (the serialisation is paid, the terminal is not).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildServers } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { GOLDEN_CASES } from '../test/golden/payloads.ts';

const run = promisify(execFile);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const TOKEN = 'bench-token';

function service(level: string): FastifyInstance {
  const parsed = parseConfig({ BACKSNAP_REPOSITORY_BASE: 's3:http://s3.local/bench', BACKSNAP_RESTIC_PASSWORD: 'bench', BACKSNAP_HOOK_TOKEN: TOKEN, BACKSNAP_LOG_LEVEL: level });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const logger = pino({ level }, pino.destination({ dest: '/dev/null', sync: false }));
  return buildServers({ config: parsed.config, logger, now: () => new Date('2026-11-29T07:24:00Z') }).hooks;
}

function bare(): FastifyInstance {
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/hooks/pvcbackup/sync', async () => ({ status: {}, children: [] }));
  return app;
}

async function requestsPerSecond(app: FastifyInstance, bodyFile: string): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const cli = join(new URL('../node_modules/autocannon/autocannon.js', import.meta.url).pathname);
    const { stdout } = await run(process.execPath, [cli, '--json', '-c', '10', '-d', String(SECONDS), '-m', 'POST', '-H', 'content-type=application/json', '-H', `authorization=Bearer ${TOKEN}`, '-i', bodyFile, `http://127.0.0.1:${port}/hooks/pvcbackup/sync`], { maxBuffer: 16 * 1024 * 1024 });
    const result = JSON.parse(stdout) as { requests: { average: number }; non2xx: number };
    if (result.non2xx > 0) throw new Error(`${result.non2xx} answers were not 2xx`);
    return result.requests.average;
  } finally {
    await app.close();
  }
}

const golden = GOLDEN_CASES.find((c) => c.name === 'pvcbackup-first-sync');
if (golden === undefined) throw new Error('no golden pvcbackup-first-sync payload');
const bodyFile = join(tmpdir(), 'backsnap-bench-golden.json');
writeFileSync(bodyFile, JSON.stringify(golden.body()));
const baseline = await requestsPerSecond(bare(), bodyFile);
const rows: [string, number][] = [['bare Fastify route', baseline]];
for (const level of ['info', 'warn']) rows.push([`backsnap-ts sync hook (log level ${level})`, await requestsPerSecond(service(level), bodyFile)]);
process.stdout.write(`\nthroughput on the golden pvcbackup-first-sync payload (${SECONDS} s each, 10 connections)\n`);
for (const [name, rps] of rows) process.stdout.write(`${name.padEnd(42)} ${rps.toFixed(0).padStart(7)} req/s  ${(rps / baseline).toFixed(2)}x\n`);
