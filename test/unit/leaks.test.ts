// The e2e leak check finds a credential in a log, in base64 in an object, and names it without
// printing it (so the check itself can fail, and its report leaks nothing).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KubeRest } from '../env/kube-rest.ts';
import { findLeaks } from '../e2e/leaks.ts';

describe('leak check', () => {
  it('reports where a credential appears, by name', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'leaks-')), 'hooks.log');
    writeFileSync(log, '{"msg":"decision"}\n{"msg":"oops","password":"hunter2-hunter2"}\n');
    const objects = [{ metadata: { namespace: 'a', name: 'job' }, spec: { env: Buffer.from('the-access-key').toString('base64') } }];
    const kube = { list: async (path: string) => ({ items: path.endsWith('/jobs') ? objects : [] }) } as unknown as KubeRest;
    const credentials = new Map([['the restic password', 'hunter2-hunter2'], ['the S3 access key', 'the-access-key'], ['the hook token', 'never-used-token']]);
    const findings = await findLeaks({ kube, credentials, logs: [log], urls: [] });
    assert.deepEqual(findings, [`${log} contains the restic password`, '/apis/batch/v1/jobs a/job contains the S3 access key (base64)']);
    assert.ok(findings.every((f) => !f.includes('hunter2')));
  });
});
