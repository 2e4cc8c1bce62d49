// The HTTP edge: malformed requests get 400, bugs 500, authentication 401, big bodies fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { HOOK_ROUTES, registerHookRoutes } from '../../src/http/hooks.ts';
import { BACKUP_CHILD_GROUPS, NOW, backup, pvc, syncRequest, testApp, testConfig } from '../support/fixtures.ts';

describe('HTTP edge', () => {
  const app = testApp();
  const malformed: { name: string; payload: string; status: number; error: RegExp }[] = [
    { name: 'not JSON', payload: '{"parent":', status: 400, error: /JSON/ },
    { name: 'no parent', payload: JSON.stringify({ controller: { metadata: {} }, children: {} }), status: 400, error: /parent/ },
    { name: 'parent without metadata.name', payload: JSON.stringify({ controller: { metadata: {} }, parent: { apiVersion: 'v1', kind: 'PVCBackup', metadata: {} }, children: {} }), status: 400, error: /name/ },
    { name: 'children not a map', payload: JSON.stringify({ controller: { metadata: {} }, parent: backup('x', { pvc: 'data' }), children: [] }), status: 400, error: /children/ },
    { name: 'wrong kind for the route', payload: JSON.stringify(syncRequest({ ...backup('x', { pvc: 'data' }), kind: 'PVCRestore' } as never, [], [], [])), status: 400, error: /serves PVCBackup/ },
  ];
  for (const c of malformed) {
    it(`answers ${c.status} to ${c.name}`, async () => {
      const reply = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: c.payload, headers: { 'content-type': 'application/json' } });
      assert.equal(reply.statusCode, c.status);
      assert.match(reply.json<{ error: string }>().error, c.error);
    });
  }

  it('answers 500 without detail when the hook itself throws (a bug), and logs it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const buggy = buildApp({ config: testConfig(), logger });
    const route = { ...HOOK_ROUTES[0]!, path: '/hooks/buggy', run: () => { throw new Error('secret detail of a bug'); } };
    registerHookRoutes(buggy, { config: testConfig(), now: () => NOW }, [route]);
    const reply = await buggy.inject({ method: 'POST', url: '/hooks/buggy', payload: syncRequest(backup('x', { pvc: 'data' }), [], [], BACKUP_CHILD_GROUPS) });
    assert.equal(reply.statusCode, 500);
    assert.doesNotMatch(reply.body, /secret detail/);
    assert.ok(lines.some((l) => l.includes('secret detail of a bug')), 'the detail is in the log');
  });

  it('accepts sync requests far larger than Fastify\'s 1 MiB default', async () => {
    const others = Array.from({ length: 2000 }, (_, i) => backup(`b-${i}`, { pvc: `pvc-${i}`, annotations: { note: 'x'.repeat(800) } }, { status: { result: 'Succeeded' } }));
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data'), ...others], BACKUP_CHILD_GROUPS);
    assert.ok(JSON.stringify(payload).length > 2 * 1024 * 1024);
    const reply = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload });
    assert.equal(reply.statusCode, 200);
  });

  it('requires the bearer token when one is configured', async () => {
    const secured = testApp(testConfig({ BACKSNAP_HOOK_TOKEN: 'hook-token' }));
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data')], BACKUP_CHILD_GROUPS);
    const without = await secured.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload });
    const wrong = await secured.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: { authorization: 'Bearer nope' } });
    const right = await secured.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: { authorization: 'Bearer hook-token' } });
    assert.deepEqual([without.statusCode, wrong.statusCode, right.statusCode], [401, 401, 200]);
  });

  it('serves health endpoints', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
