import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { createLogger } from '../../src/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'backsnap-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function logFile(): { fd: number; read: () => string[] } {
  files += 1;
  const path = join(dir, `out-${files}.jsonl`);
  const fd = openSync(path, 'w');
  return { fd, read: () => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') };
}

describe('logger', () => {
  it('writes the lines of one turn together when the turn ends, in order, non-ASCII intact', async () => {
    const file = logFile();
    const logger = createLogger('info', file.fd);
    logger.info({ object: 'demo/ä' }, 'first');
    logger.info('second');
    assert.deepEqual(file.read(), [], 'nothing is written before the turn ends');
    await new Promise((resolve) => setImmediate(resolve));
    const lines = file.read().map((l) => JSON.parse(l) as { msg: string; object?: string; service: string });
    assert.deepEqual(lines.map((l) => l.msg), ['first', 'second']);
    assert.equal(lines[0]?.object, 'demo/ä');
    assert.equal(lines[0]?.service, 'backsnap-ts');
  });

  it('keeps the level: a debug line is not written at info', async () => {
    const file = logFile();
    const logger = createLogger('info', file.fd);
    logger.debug('hidden');
    logger.warn('shown');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(file.read().map((l) => (JSON.parse(l) as { msg: string }).msg), ['shown']);
  });

  it('writes what is pending when the process exits in the same turn', () => {
    const logger = new URL('../../src/logger.ts', import.meta.url).href;
    const script = `import { createLogger } from ${JSON.stringify(logger)}; createLogger('info').error('last words'); process.exit(3);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 3);
    assert.match(child.stdout, /"msg":"last words"/);
  });
});
