// The HTTP edge: malformed requests get 400, bugs 500, authentication 401, big bodies fit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { buildServers } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { HOOK_ROUTES, registerHookRoutes } from '../../src/http/hooks.ts';
import { BACKUP_CHILD_GROUPS, HOOK_AUTH, NOW, TEST_ENV, backup, pvc, syncRequest, testApp, testConfig, testServers } from '../support/fixtures.ts';

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
      const reply = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: c.payload, headers: { 'content-type': 'application/json', ...HOOK_AUTH } });
      assert.equal(reply.statusCode, c.status);
      assert.match(reply.json<{ error: string }>().error, c.error);
    });
  }

  it('answers 500 without detail when the hook itself throws (a bug), and logs it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const buggy = buildServers({ config: testConfig(), logger }).hooks;
    const route = { ...HOOK_ROUTES[0]!, path: '/hooks/buggy', run: () => { throw new Error('secret detail of a bug'); } };
    registerHookRoutes(buggy, { config: testConfig(), now: () => NOW }, [route]);
    const reply = await buggy.inject({ method: 'POST', url: '/hooks/buggy', payload: syncRequest(backup('x', { pvc: 'data' }), [], [], BACKUP_CHILD_GROUPS), headers: HOOK_AUTH });
    assert.equal(reply.statusCode, 500);
    assert.doesNotMatch(reply.body, /secret detail/);
    assert.ok(lines.some((l) => l.includes('secret detail of a bug')), 'the detail is in the log');
  });

  it('accepts sync requests far larger than Fastify\'s 1 MiB default', async () => {
    const others = Array.from({ length: 2000 }, (_, i) => backup(`b-${i}`, { pvc: `pvc-${i}`, annotations: { note: 'x'.repeat(800) } }, { status: { result: 'Succeeded' } }));
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data'), ...others], BACKUP_CHILD_GROUPS);
    assert.ok(JSON.stringify(payload).length > 2 * 1024 * 1024);
    const reply = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: HOOK_AUTH });
    assert.equal(reply.statusCode, 200);
  });

  it('refuses hook calls without the bearer token, by default', async () => {
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data')], BACKUP_CHILD_GROUPS);
    const without = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload });
    const wrong = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: { authorization: 'Bearer nope' } });
    const right = await app.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: HOOK_AUTH });
    assert.deepEqual([without.statusCode, wrong.statusCode, right.statusCode], [401, 401, 200]);
    assert.doesNotMatch(without.body, /RESTIC|AWS/);
  });

  it('accepts the current and the previous token during a rotation, and no other', async () => {
    const rotating = testApp(testConfig({ BACKSNAP_HOOK_TOKEN: 'new-token', BACKSNAP_HOOK_TOKEN_PREVIOUS: 'old-token' }));
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data')], BACKUP_CHILD_GROUPS);
    const codes = [];
    for (const token of ['new-token', 'old-token', 'older-token']) {
      codes.push((await rotating.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload, headers: { authorization: `Bearer ${token}` } })).statusCode);
    }
    assert.deepEqual(codes, [200, 200, 401]);
  });

  it('does not start without a hook token unless unauthenticated hooks are explicitly allowed', async () => {
    const { BACKSNAP_HOOK_TOKEN: _token, ...withoutToken } = TEST_ENV;
    const refused = parseConfig(withoutToken);
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.errors.join('\n'), /BACKSNAP_HOOK_TOKEN is required/);
    const optedOut = parseConfig({ ...withoutToken, BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS: 'true' });
    assert.ok(optedOut.ok);
    const open = testServers(optedOut.config);
    const payload = syncRequest(backup('x', { pvc: 'data' }), [], [pvc('data')], BACKUP_CHILD_GROUPS);
    assert.equal((await open.hooks.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload })).statusCode, 200);
    assert.match((await open.metrics.inject({ method: 'GET', url: '/metrics' })).body, /backsnap_hook_authentication_enabled 0\b/);
  });

  it('serves each route on its own server only', async () => {
    const { hooks, operations, metrics } = testServers();
    assert.equal((await hooks.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    assert.equal((await hooks.inject({ method: 'POST', url: '/v1/housekeeping' })).statusCode, 404);
    assert.equal((await operations.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: {}, headers: HOOK_AUTH })).statusCode, 404);
    assert.equal((await metrics.inject({ method: 'POST', url: '/hooks/pvcbackup/sync', payload: {}, headers: HOOK_AUTH })).statusCode, 404);
    assert.equal((await metrics.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('serves health endpoints', async () => {
    const { metrics } = testServers();
    assert.equal((await metrics.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await metrics.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
