// End-to-end check of the Metacontroller stand-in against a real API server and garbage collector
// (test/env/controlplane.ts), with hooks served by a node:http server in this process.
// Run: npx node --test test/metacontroller-standin/standin.e2e.test.ts
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { waitFor } from '../env/processes.ts';
import { applyMetacontrollerStandinCrds } from './crds.ts';
import { KubeApi, isStatus } from './kube-api.ts';
import type { KubeObject } from './kube-types.ts';
import { LAST_APPLIED_ANNOTATION } from './apply-merge.ts';
import { DECORATOR_ANNOTATION } from './observe.ts';
import { startMetacontrollerStandin, type Standin } from './standin.ts';

const NS = 'standin';
const WAIT = { timeoutMs: 20_000, intervalMs: 100 };
const WIDGETS = `/apis/standin.test/v1/namespaces/${NS}/widgets`;
const CONFIGMAPS = `/api/v1/namespaces/${NS}/configmaps`;

interface HookCall {
  at: number;
  body: Record<string, unknown>;
}

/** Parent kind of the test: a namespaced CRD with a status subresource. */
const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.standin.test' },
  spec: {
    group: 'standin.test',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

type Spec = { configMaps?: string[]; value?: string; resyncAfterSeconds?: number; fail?: 'http500' | 'extraField' };

/** The composite hook: one ConfigMap per spec.configMaps entry; status counts what it observed. */
function compositeSync(body: Record<string, unknown>): { code: number; answer: unknown } {
  const parent = body['parent'] as KubeObject & { spec?: Spec };
  const spec = parent.spec ?? {};
  if (spec.fail === 'http500') return { code: 500, answer: { error: 'boom' } };
  const children = body['children'] as Record<string, Record<string, KubeObject>>;
  const related = body['related'] as Record<string, Record<string, KubeObject>>;
  const answer = {
    status: { phase: 'Ready', children: Object.keys(children['ConfigMap.v1'] ?? {}).length, related: Object.keys(related['ConfigMap.v1'] ?? {}).length },
    children: (spec.configMaps ?? []).map((suffix) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${parent.metadata?.name}-${suffix}` },
      data: { value: spec.value ?? 'initial' },
    })),
    resyncAfterSeconds: spec.resyncAfterSeconds ?? 0,
  };
  // Were this accepted, every child would be deleted and the status replaced.
  if (spec.fail === 'extraField') return { code: 200, answer: { ...answer, children: [], status: { phase: 'Broken' }, unexpected: true } };
  return { code: 200, answer };
}

function compositeCustomize(body: Record<string, unknown>): { code: number; answer: unknown } {
  const parent = body['parent'] as KubeObject;
  return { code: 200, answer: { relatedResources: [{ apiVersion: 'v1', resource: 'configmaps', namespace: NS, names: [`${parent.metadata?.name}-related`] }] } };
}

/** The decorator hook: labels the target and attaches a ConfigMap named after it. */
function decoratorSync(body: Record<string, unknown>): { code: number; answer: unknown } {
  const target = body['object'] as KubeObject;
  return {
    code: 200,
    answer: {
      labels: { decorated: 'yes' },
      annotations: {},
      status: null,
      attachments: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${target.metadata?.name}-extra` }, data: { from: 'decorator' } }],
    },
  };
}

describe('metacontroller stand-in', { timeout: 300_000 }, () => {
  let dir: string;
  let controlPlane: ControlPlane | undefined;
  let standin: Standin | undefined;
  let hookServer: Server | undefined;
  let api: KubeApi;
  let hookBase: string;
  const calls = new Map<string, HookCall[]>(); // by "<hook> <object name>"
  const callsOf = (hook: string, name: string): HookCall[] => calls.get(`${hook} ${name}`) ?? [];
  let logPath: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standin-e2e-'));
    logPath = join(dir, 'standin.log');
    controlPlane = await startControlPlane({ dir: join(dir, 'cp') });
    api = new KubeApi(controlPlane.kubeconfigPath);

    const routes: Record<string, (body: Record<string, unknown>) => { code: number; answer: unknown }> = {
      '/composite/sync': compositeSync,
      '/composite/customize': compositeCustomize,
      '/decorator/sync': decoratorSync,
    };
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const root = (body['parent'] ?? body['object']) as KubeObject;
        const key = `${req.url} ${root.metadata?.name}`;
        calls.set(key, [...(calls.get(key) ?? []), { at: Date.now(), body }]);
        const route = routes[req.url ?? ''];
        const { code, answer } = route === undefined ? { code: 404, answer: {} } : route(body);
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => hookServer?.listen(0, '127.0.0.1', resolve));
    const address = hookServer.address();
    hookBase = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

    await applyMetacontrollerStandinCrds(controlPlane.kubeconfigPath);
    await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd);
    await waitFor('widgets CRD established', async () => {
      const crd = await api.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.standin.test');
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    }, WAIT);
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    standin = await startMetacontrollerStandin({ kubeconfigPath: controlPlane.kubeconfigPath, log: (line) => {
        appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`);
        // STANDIN_E2E_VERBOSE=1 shows every sync while the test runs.
        if (process.env['STANDIN_E2E_VERBOSE'] === '1') console.log(`# ${line}`);
      },
    });
    await api.request('POST', '/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers', {
      apiVersion: 'metacontroller.k8s.io/v1alpha1',
      kind: 'CompositeController',
      metadata: { name: 'widgets' },
      spec: {
        parentResource: { apiVersion: 'standin.test/v1', resource: 'widgets' },
        childResources: [{ apiVersion: 'v1', resource: 'configmaps', updateStrategy: { method: 'InPlace' } }],
        generateSelector: true,
        hooks: {
          sync: { version: 'v2', webhook: { url: `${hookBase}/composite/sync`, timeout: '5s' } },
          customize: { version: 'v2', webhook: { url: `${hookBase}/composite/customize` } },
        },
      },
    });
  });

  let failed = false;
  afterEach((t) => {
    if ('passed' in t && !t.passed) failed = true;
  });
  after(async () => {
    await standin?.stop();
    await new Promise((resolve) => (hookServer === undefined ? resolve(undefined) : hookServer.close(resolve)));
    api?.close();
    await controlPlane?.stop();
    if (failed || controlPlane === undefined) console.log(`# logs kept in ${dir} (stand-in log: ${logPath})`);
    else rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<KubeObject | undefined> => {
    try {
      return await api.request<KubeObject>('GET', path);
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  };
  const widget = (name: string, spec: Spec) => api.request<KubeObject>('POST', WIDGETS, { apiVersion: 'standin.test/v1', kind: 'Widget', metadata: { name }, spec });
  const patchSpec = (name: string, spec: Record<string, unknown>) => api.request('PATCH', `${WIDGETS}/${name}`, { spec }, 'application/merge-patch+json');
  const status = async (name: string): Promise<Record<string, unknown>> => ((await get(`${WIDGETS}/${name}`))?.['status'] ?? {}) as Record<string, unknown>;
  /** Resolves once `count()` has not changed for quietMs: the world settled, whatever it took. */
  const settled = (what: string, count: () => number, quietMs = 1500): Promise<number> => {
    let last = count();
    let since = Date.now();
    return waitFor(
      `${what} to settle`,
      async () => {
        const now = count();
        if (now !== last) [last, since] = [now, Date.now()];
        return Date.now() - since >= quietMs ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  };

  let w1Uid = '';
  it('creates children with the controller ownerReference, selector label and last-applied annotation, and writes status', async () => {
    w1Uid = (await widget('w1', { configMaps: ['a', 'b'] })).metadata?.uid ?? '';
    for (const name of ['w1-a', 'w1-b']) {
      const cm = await waitFor(`configmap ${name}`, () => get(`${CONFIGMAPS}/${name}`), WAIT);
      assert.deepEqual(cm.metadata?.ownerReferences, [{ apiVersion: 'standin.test/v1', kind: 'Widget', name: 'w1', uid: w1Uid, controller: true, blockOwnerDeletion: true }]);
      assert.equal(cm.metadata?.labels?.['controller-uid'], w1Uid);
      assert.ok(cm.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]);
      assert.deepEqual(cm['data'], { value: 'initial' });
    }
    const st = await waitFor('w1 status', async () => {
      const s = await status('w1');
      return s['children'] === 2 ? s : undefined;
    }, WAIT);
    assert.deepEqual(st, { phase: 'Ready', children: 2, related: 0, observedGeneration: 1 });
    const [first] = callsOf('/composite/sync', 'w1');
    assert.deepEqual(Object.keys(first?.body ?? {}), ['controller', 'parent', 'children', 'related', 'finalizing']);
    assert.deepEqual(first?.body['children'], { 'ConfigMap.v1': {} }, 'every child group is present, even empty');
    assert.deepEqual(first?.body['related'], { 'ConfigMap.v1': {} });
    assert.equal(callsOf('/composite/customize', 'w1').length, 1, 'customize is cached per generation');
  });

  it('makes no hook calls while nothing changes', async () => {
    const count = () => callsOf('/composite/sync', 'w1').length;
    const before = await settled('w1 sync calls', count);
    assert.ok(before <= 5, `converged after ${before} calls`);
    const syncs = standin?.syncCount() ?? 0;
    await settled('stand-in syncs', () => standin?.syncCount() ?? 0, 2000);
    assert.equal(count(), before);
    assert.equal(standin?.syncCount(), syncs);
  });

  it('syncs when a related object appears', async () => {
    await api.request('POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1-related' }, data: {} });
    await waitFor('w1 status sees the related object', async () => ((await status('w1'))['related'] === 1 ? true : undefined), WAIT);
    const last = callsOf('/composite/sync', 'w1').at(-1);
    assert.deepEqual(Object.keys((last?.body['related'] as Record<string, unknown>)['ConfigMap.v1'] as object), [`${NS}/w1-related`]);
  });

  it('updates children in place and deletes children missing from the answer', async () => {
    const aUid = (await get(`${CONFIGMAPS}/w1-a`))?.metadata?.uid;
    await patchSpec('w1', { configMaps: ['a'], value: 'changed' });
    await waitFor('w1-b deleted', async () => ((await get(`${CONFIGMAPS}/w1-b`)) === undefined ? true : undefined), WAIT);
    const a = await waitFor('w1-a updated', async () => {
      const cm = await get(`${CONFIGMAPS}/w1-a`);
      return (cm?.['data'] as Record<string, string> | undefined)?.['value'] === 'changed' ? cm : undefined;
    }, WAIT);
    assert.equal(a.metadata?.uid, aUid, 'InPlace keeps the object');
    await waitFor('w1 status', async () => {
      const s = await status('w1');
      return s['children'] === 1 && s['observedGeneration'] === 2 ? true : undefined;
    }, WAIT);
  });

  it('changes nothing when the hook fails or answers with an unknown field, and retries with backoff', async () => {
    for (const fail of ['extraField', 'http500'] as const) {
      const before = callsOf('/composite/sync', 'w1').length;
      const statusBefore = await status('w1');
      await patchSpec('w1', { fail });
      await waitFor(`retries after ${fail}`, async () => (callsOf('/composite/sync', 'w1').length >= before + 3 ? true : undefined), WAIT);
      assert.ok(await get(`${CONFIGMAPS}/w1-a`), 'child kept');
      assert.deepEqual(await status('w1'), statusBefore, 'status untouched');
      const times = callsOf('/composite/sync', 'w1').slice(before).map((c) => c.at);
      const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
      assert.ok((gaps.at(-1) ?? 0) > (gaps[0] ?? 0), `backoff grows: ${gaps.join(', ')} ms`);
    }
    await patchSpec('w1', { fail: null });
    await waitFor('w1 recovered', async () => ((await status('w1'))['observedGeneration'] === 5 ? true : undefined), WAIT);
    assert.ok(await get(`${CONFIGMAPS}/w1-a`));
  });

  it('resyncs after resyncAfterSeconds', async () => {
    await widget('w2', { configMaps: [], resyncAfterSeconds: 1 });
    await waitFor('w2 resynced repeatedly', async () => (callsOf('/composite/sync', 'w2').length >= 5 ? true : undefined), WAIT);
    const times = callsOf('/composite/sync', 'w2').map((c) => c.at);
    const gap = (times.at(-1) ?? 0) - (times.at(-2) ?? 0);
    assert.ok(gap >= 900 && gap < 2500, `gap between timer-driven syncs: ${gap} ms`);
    await patchSpec('w2', { resyncAfterSeconds: 0 });
    const settledCount = await settled('w2 sync calls', () => callsOf('/composite/sync', 'w2').length, 2500);
    assert.equal(callsOf('/composite/sync', 'w2').length, settledCount);
  });

  it('decorates matching objects: labels merged, attachment created', async () => {
    await api.request('POST', '/apis/metacontroller.k8s.io/v1alpha1/decoratorcontrollers', {
      apiVersion: 'metacontroller.k8s.io/v1alpha1',
      kind: 'DecoratorController',
      metadata: { name: 'decorate-configmaps' },
      spec: {
        resources: [{ apiVersion: 'v1', resource: 'configmaps', labelSelector: { matchLabels: { decorate: 'yes' } } }],
        attachments: [{ apiVersion: 'v1', resource: 'configmaps' }],
        hooks: { sync: { version: 'v2', webhook: { url: `${hookBase}/decorator/sync` } } },
      },
    });
    const target = await api.request<KubeObject>('POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', labels: { decorate: 'yes', keep: 'me' } }, data: {} });
    const labelled = await waitFor('target labelled', async () => {
      const cm = await get(`${CONFIGMAPS}/target`);
      return cm?.metadata?.labels?.['decorated'] === 'yes' ? cm : undefined;
    }, WAIT);
    assert.deepEqual(labelled.metadata?.labels, { decorate: 'yes', keep: 'me', decorated: 'yes' });
    const extra = await waitFor('attachment', () => get(`${CONFIGMAPS}/target-extra`), WAIT);
    assert.equal(extra.metadata?.annotations?.[DECORATOR_ANNOTATION], 'decorate-configmaps');
    assert.deepEqual(extra.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'target', uid: target.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }]);
    const count = await settled('decorator calls', () => callsOf('/decorator/sync', 'target').length);
    assert.ok(count <= 5, `converged after ${count} calls`);
    const [first] = callsOf('/decorator/sync', 'target');
    assert.deepEqual(Object.keys(first?.body ?? {}), ['controller', 'object', 'attachments', 'related', 'finalizing']);
    assert.equal(callsOf('/decorator/sync', 'w1-a').length, 0, 'objects not matching the selector are not decorated');
  });

  it('leaves the children of a deleted parent to the garbage collector', async () => {
    await api.request('DELETE', `${WIDGETS}/w1`);
    await waitFor('w1 children collected', async () => ((await get(`${CONFIGMAPS}/w1-a`)) === undefined ? true : undefined), { timeoutMs: 60_000 });
    assert.ok(w1Uid !== '');
  });

  it('applied every hook answer without API errors', () => {
    // A failed create/update/delete is retried and may go unnoticed by the checks above.
    const lines = readFileSync(logPath, 'utf8').split('\n');
    assert.deepEqual(lines.filter((line) => line.includes(' with errors: ')), []);
  });
});
