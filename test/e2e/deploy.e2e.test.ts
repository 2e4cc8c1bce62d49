// What ships in deploy/: the kustomize base and the Helm chart render, the real API server accepts
// every rendered object (server-side dry-run), and no credential appears outside a Secret.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { cacheBinDir, startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { KubeRest } from '../env/kube-rest.ts';
import { applyMetacontrollerCrds } from '../env/metacontroller.ts';
import { RETIRED_LABEL } from '../../src/labels.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const kubectl = join(cacheBinDir(), 'kubectl');
const helm = join(cacheBinDir(), 'helm');
const SENTINELS = { password: 'sentinel-restic-password', accessKey: 'sentinel-access-key', secretKey: 'sentinel-secret-key', token: 'sentinel-housekeeping-token', hookToken: 'sentinel-hook-token' };

interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string };
}

function documents(yaml: string): Rendered[] {
  return parseAllDocuments(yaml).map((d) => d.toJS() as Rendered | null).filter((o): o is Rendered => o !== null);
}

function renderKustomize(): string {
  // deploy/ with its env files replaced by sentinel credentials, in a copy so nothing is edited.
  const dir = mkdtempSync(join(tmpdir(), 'backsnap-deploy-'));
  try {
    execFileSync('cp', ['-r', join(ROOT, 'deploy'), join(ROOT, 'crds'), join(ROOT, 'metacontroller'), dir]);
    writeFileSync(join(dir, 'deploy/credentials.env'), `BACKSNAP_RESTIC_PASSWORD=${SENTINELS.password}\nBACKSNAP_S3_ACCESS_KEY_ID=${SENTINELS.accessKey}\nBACKSNAP_S3_SECRET_ACCESS_KEY=${SENTINELS.secretKey}\nBACKSNAP_HOUSEKEEPING_TOKEN=${SENTINELS.token}\nBACKSNAP_HOOK_TOKEN=${SENTINELS.hookToken}\n`);
    return execFileSync(kubectl, ['kustomize', join(dir, 'deploy')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function renderHelm(extra: string[] = []): string {
  return execFileSync(helm, [
    'template', 'backsnap', join(ROOT, 'deploy/helm/backsnap-ts'), '--namespace', 'backsnap', '--kube-version', '1.36.0', '--include-crds',
    '--set', 'app.s3.host=s3.example.com', '--set', 'app.s3.bucket=backups',
    '--set', `app.restic.password=${SENTINELS.password}`, '--set', `app.s3.accessKey=${SENTINELS.accessKey}`, '--set', `app.s3.secretKey=${SENTINELS.secretKey}`,
    '--set', `housekeeping.token=${SENTINELS.token}`, ...extra,
  ], { encoding: 'utf8' });
}

function assertCredentialsOnlyInSecrets(objects: Rendered[]): void {
  const forms = Object.values(SENTINELS).flatMap((v) => [v, Buffer.from(v).toString('base64')]);
  const secrets = objects.filter((o) => o.kind === 'Secret');
  assert.ok(secrets.length > 0, 'the credentials are rendered into a Secret');
  for (const object of objects) {
    if (object.kind === 'Secret') continue;
    const text = JSON.stringify(object);
    for (const form of forms) assert.ok(!text.includes(form), `${object.kind}/${object.metadata.name} carries a credential`);
  }
  const inSecrets = JSON.stringify(secrets);
  assert.ok(inSecrets.includes(Buffer.from(SENTINELS.password).toString('base64')) || inSecrets.includes(SENTINELS.password));
}

describe('deploy/ manifests', () => {
  let controlPlane: ControlPlane;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backsnap-deploy-cp-'));
    controlPlane = await startControlPlane({ dir });
    const kube = await KubeRest.fromKubeconfig(controlPlane.kubeconfigPath);
    await applyMetacontrollerCrds(kube);
    // Server-side dry-run cannot create the namespace the other objects go to.
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'backsnap' } });
  });
  after(async () => {
    await controlPlane?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function dryRun(yaml: string): string {
    const file = join(dir, 'rendered.yaml');
    writeFileSync(file, yaml);
    return execFileSync(kubectl, ['--kubeconfig', controlPlane.kubeconfigPath, 'apply', '--server-side', '--dry-run=server', '--field-manager=backsnap-test', '-f', file], { encoding: 'utf8' });
  }

  it('the kustomize base is accepted by the API server, object by object', () => {
    const yaml = renderKustomize();
    const objects = documents(yaml);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Namespace', 'CustomResourceDefinition', 'CompositeController', 'DecoratorController', 'Deployment', 'Service', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'CronJob', 'ConfigMap', 'Secret', 'PodDisruptionBudget']) {
      assert.ok(kinds.has(kind), `renders a ${kind}`);
    }
    const output = dryRun(yaml);
    assert.equal(output.trim().split('\n').length, objects.length, output);
    assert.ok(output.split('\n').filter((l) => l !== '').every((line) => /serverside-applied \(server dry run\)$/.test(line)), output);
  });

  it('the kustomize base makes every hook send the token from the credentials Secret', () => {
    const objects = documents(renderKustomize());
    const controllers = objects.filter((o) => o.kind.endsWith('Controller')) as (Rendered & { spec: { hooks: Record<string, { webhook: { authorization?: { type: string; secretRef: { name: string; namespace: string; key: string } } } }> } })[];
    assert.equal(controllers.length, 5);
    // The Helm chart writes its controllers by hand: the same hooks, each once.
    type WithHooks = Rendered & { spec: { hooks: Record<string, { webhook: { path?: string } }> } };
    const pathsOf = (objs: Rendered[]) => (objs.filter((o) => o.kind.endsWith('Controller')) as WithHooks[]).flatMap((o) => Object.values(o.spec.hooks).map((h) => h.webhook.path)).sort();
    assert.deepEqual(pathsOf(documents(renderHelm())), pathsOf(objects));
    for (const controller of controllers) {
      for (const hook of Object.values(controller.spec.hooks)) assert.deepEqual(hook.webhook.authorization, { type: 'Bearer', secretRef: { name: 'backsnap-credentials', namespace: 'backsnap', key: 'BACKSNAP_HOOK_TOKEN' } });
    }
    const secret = objects.find((o) => o.kind === 'Secret') as Rendered & { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data['BACKSNAP_HOOK_TOKEN'] ?? '', 'base64').toString(), SENTINELS.hookToken, 'the service reads the same key (envFrom)');
  });

  it('the PVCBackup controller and its labeler skip retired backups, in both renderings', () => {
    type Selector = { matchExpressions?: { key: string; operator: string }[] };
    type Controller = Rendered & { spec: { parentResource?: { resource: string; labelSelector?: Selector }; resources?: { resource: string; labelSelector?: Selector }[] } };
    const retired = { matchExpressions: [{ key: RETIRED_LABEL, operator: 'DoesNotExist' }] };
    for (const objects of [documents(renderKustomize()), documents(renderHelm())]) {
      const controllers = objects.filter((o) => o.kind.endsWith('Controller')) as Controller[];
      const composite = controllers.find((c) => c.spec.parentResource?.resource === 'pvcbackups');
      assert.deepEqual(composite?.spec.parentResource?.labelSelector, retired);
      const labeler = controllers.find((c) => c.metadata.name.endsWith('pvcbackup-labeler'));
      assert.deepEqual(labeler?.spec.resources?.map((r) => r.labelSelector), [retired]);
    }
  });

  it('the NetworkPolicies admit exactly Metacontroller to the hooks, the CronJob to the operations and monitoring to the metrics', () => {
    type Policy = Rendered & { spec: { podSelector: unknown; policyTypes: string[]; ingress: { from: unknown[]; ports: { port: number }[] }[] } };
    const kustomized = documents(renderKustomize());
    const cronJob = kustomized.find((o) => o.kind === 'CronJob') as Rendered & { spec: { jobTemplate: { spec: { template: { metadata: { labels: Record<string, string> } } } } } };
    const service = kustomized.find((o) => o.kind === 'Service') as Rendered & { spec: { ports: { name: string; port: number; targetPort: string }[] } };
    const expected = (metacontroller: unknown, housekeepingPods: unknown, monitoring: unknown) => [
      { from: [{ namespaceSelector: metacontroller }], ports: [{ port: 8080 }] },
      { from: [{ podSelector: housekeepingPods }], ports: [{ port: 8081 }] },
      { from: [{ namespaceSelector: monitoring }], ports: [{ port: 9090 }] },
    ];
    const byName = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
    const policy = kustomized.filter((o) => o.kind === 'NetworkPolicy') as Policy[];
    assert.equal(policy.length, 1);
    assert.deepEqual(policy[0]?.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy[0]?.spec.ingress, expected(byName('metacontroller'), { matchLabels: cronJob.spec.jobTemplate.spec.template.metadata.labels }, byName('monitoring')));
    assert.deepEqual(service.spec.ports.map((p) => [p.name, p.port]), [['hooks', 80], ['operations', 8081], ['metrics', 9090]]);

    const helmed = documents(renderHelm(['--set', 'metacontroller.namespaceSelector.matchLabels.team=platform']));
    const helmPolicy = helmed.filter((o) => o.kind === 'NetworkPolicy') as Policy[];
    const helmCron = helmed.find((o) => o.kind === 'CronJob') as typeof cronJob;
    assert.equal(helmPolicy.length, 1);
    assert.deepEqual(helmPolicy[0]?.spec.ingress, expected({ matchLabels: { 'kubernetes.io/metadata.name': 'metacontroller', team: 'platform' } }, { matchLabels: helmCron.spec.jobTemplate.spec.template.metadata.labels }, byName('monitoring')));
  });

  it('the kustomize base keeps credentials in its Secret only', () => {
    assertCredentialsOnlyInSecrets(documents(renderKustomize()));
  });

  it('the Helm chart is accepted by the API server, with and without hook authentication', () => {
    for (const extra of [[], ['--set', 'metacontroller.hookAuthentication=false', '--set', 'replicaCount=3', '--set', 'app.namespaces.exclude={kube-system,tmp}']]) {
      const yaml = renderHelm(extra);
      const output = dryRun(yaml);
      assert.equal(output.trim().split('\n').length, documents(yaml).length, output);
    }
  });

  it('the Helm chart authenticates hooks by default and opts out only explicitly', () => {
    type Controller = Rendered & { spec: { hooks: Record<string, { webhook: { authorization?: unknown } }> } };
    type Deployment = Rendered & { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    const defaults = documents(renderHelm());
    for (const c of defaults.filter((o) => o.kind.endsWith('Controller')) as Controller[]) {
      for (const hook of Object.values(c.spec.hooks)) assert.ok(hook.webhook.authorization !== undefined, `${c.metadata.name} sends a token`);
    }
    const secret = defaults.find((o) => o.kind === 'Secret') as Rendered & { data: Record<string, string> };
    assert.ok(Buffer.from(secret.data['BACKSNAP_HOOK_TOKEN'] ?? '', 'base64').toString().length >= 32, 'a generated token');
    const envOf = (objects: Rendered[]) => (objects.find((o) => o.kind === 'Deployment') as Deployment).spec.template.spec.containers[0]?.env ?? [];
    assert.ok(!envOf(defaults).some((e) => e.name === 'BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS'));
    const insecure = envOf(documents(renderHelm(['--set', 'metacontroller.hookAuthentication=false'])));
    assert.deepEqual(insecure.find((e) => e.name === 'BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS'), { name: 'BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS', value: 'true' });
  });

  it('the Helm chart keeps credentials in its Secret only, or in an existing Secret', () => {
    assertCredentialsOnlyInSecrets(documents(renderHelm(['--set', 'metrics.prometheusRule.enabled=true'])));
    const external = documents(execFileSync(helm, ['template', 'backsnap', join(ROOT, 'deploy/helm/backsnap-ts'), '--kube-version', '1.36.0', '--set', 'app.repositoryBase=rest:https://backup.example.com/', '--set', 'app.existingSecret=mine'], { encoding: 'utf8' }));
    assert.ok(!external.some((o) => o.kind === 'Secret'), 'no Secret is rendered with existingSecret');
  });

  it('the Helm chart takes a backsnap values file', () => {
    const values = join(dir, 'backsnap-values.yaml');
    writeFileSync(values, `app:\n  namespaces:\n    allow: [prod]\n    exclude: [kube-system]\n  schedule: "0 3 * * *"\n  snapshotClass: csi-snapclass\n  storageClass: fast\n  s3:\n    host: s3.us-west-004.backblazeb2.com\n    bucket: backups\n    accessKey: a\n    secretKey: b\n  restic:\n    password: c\n`);
    const config = documents(execFileSync(helm, ['template', 'backsnap', join(ROOT, 'deploy/helm/backsnap-ts'), '--kube-version', '1.36.0', '-f', values], { encoding: 'utf8' })).find((o) => o.kind === 'ConfigMap') as Rendered & { data: Record<string, string> };
    assert.equal(config.data['BACKSNAP_NAMESPACES'], 'prod');
    assert.equal(config.data['BACKSNAP_SCHEDULE'], '0 3 * * *');
    assert.equal(config.data['BACKSNAP_S3_HOST'], 's3.us-west-004.backblazeb2.com');
  });
});
