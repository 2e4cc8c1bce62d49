import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCompositeController, parseDecoratorController } from './controller-spec.ts';

const hooks = { sync: { version: 'v2', webhook: { url: 'http://127.0.0.1:1/sync', timeout: '3s' } } };

test('composite controller: hooks, child rules, defaults', () => {
  const config = parseCompositeController({
    metadata: { name: 'cc' },
    spec: {
      parentResource: { apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcbackups' },
      childResources: [{ apiVersion: 'batch/v1', resource: 'jobs', updateStrategy: { method: 'OnDelete' } }, { apiVersion: 'v1', resource: 'persistentvolumeclaims' }],
      generateSelector: true,
      resyncPeriodSeconds: 0.2,
      hooks: { ...hooks, customize: { version: 'v2', webhook: { service: { name: 'svc', namespace: 'ns', port: 8080 }, path: '/customize' } } },
    },
  });
  assert.deepEqual(config.sync, { url: 'http://127.0.0.1:1/sync', timeoutMs: 3000 });
  assert.deepEqual(config.customize, { url: 'http://svc.ns:8080/customize', timeoutMs: 10_000 });
  assert.deepEqual(config.children.map((c) => c.method), ['OnDelete', '']);
  assert.equal(config.resyncPeriodSeconds, 1);
  assert.deepEqual(config.warnings, []);
});

test('hook API v1 (the CRD default) is refused: the stand-in implements v2 only', () => {
  assert.throws(() => parseCompositeController({ metadata: { name: 'cc' }, spec: { parentResource: { apiVersion: 'a/v1', resource: 'xs' }, hooks: { sync: { webhook: { url: 'http://x' } } } } }), /v2 only/);
});

test('unimplemented features are reported as warnings', () => {
  const config = parseDecoratorController({
    metadata: { name: 'dec' },
    spec: {
      resources: [{ apiVersion: 'v1', resource: 'persistentvolumeclaims', annotationSelector: { matchExpressions: [{ key: 'backsnap.skyb.it/schedule', operator: 'Exists' }] } }],
      attachments: [{ apiVersion: 'backsnap.skyb.it/v1alpha1', resource: 'pvcbackups' }],
      hooks: { ...hooks, finalize: { version: 'v2', webhook: { url: 'http://x/finalize' } } },
    },
  });
  assert.match(config.warnings.join('\n'), /finalize is not implemented/);
  assert.throws(() => parseDecoratorController({ metadata: { name: 'd' }, spec: { resources: [{ apiVersion: 'v1', resource: 'x' }], attachments: [{ apiVersion: 'v1', resource: 'y', updateStrategy: { method: 'RollingInPlace' } }], hooks } }), /not supported/);
});
