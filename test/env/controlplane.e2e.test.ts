// Self-check of the end-to-end environment: control plane, MinIO and node agent together run Jobs
// with volumes, take and restore snapshots, and let restic back up into MinIO.
// Run: npx node --test test/env/controlplane.e2e.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it as test } from 'node:test';
import { startNodeAgent, type NodeAgent } from '../node-agent/agent.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod, VolumeSnapshot } from '../node-agent/types.ts';
import { cacheImagesDir, startControlPlane, type ControlPlane } from './controlplane.ts';
import { KubeRest } from './kube-rest.ts';
import { startMinio, type Minio } from './minio.ts';
import { waitFor } from './processes.ts';

const NS = 'e2e';
const TIMEOUT = { timeoutMs: 60_000 };

interface Job {
  metadata: { name: string; uid: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const jobManifest = (name: string, script: string, extra: { image?: string; volumes?: unknown[]; mounts?: unknown[]; envFrom?: unknown[]; env?: unknown[] } = {}) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: NS },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'main',
            image: extra.image ?? 'busybox',
            command: ['sh', '-c', script],
            env: extra.env ?? [],
            envFrom: extra.envFrom ?? [],
            volumeMounts: extra.mounts ?? [],
          },
        ],
        volumes: extra.volumes ?? [],
      },
    },
  },
});

const pvcManifest = (name: string, dataSource?: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: NS },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
    ...(dataSource === undefined ? {} : { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: dataSource } }),
  },
});

describe('end-to-end environment', { timeout: 300_000 }, () => {
  let dir: string;
  let controlPlane: ControlPlane | undefined;
  let minio: Minio | undefined;
  let agent: NodeAgent | undefined;
  let kube: KubeRest;
  const theControlPlane = (): ControlPlane => {
    if (controlPlane === undefined) throw new Error('control plane not started');
    return controlPlane;
  };
  /** The CSI driver's directory of a PV's volume. */
  const volumePath = async (pvName: string): Promise<string> => {
    const pv = await kube.get<PersistentVolume>(`/api/v1/persistentvolumes/${pvName}`);
    return theControlPlane().csi.volumePath(pv?.spec.csi?.volumeHandle ?? '');
  };
  const theAgent = (): NodeAgent => {
    assert.ok(agent, 'node agent started');
    return agent;
  };
  const hostHadData = existsSync('/data');
  const log = (line: string): void => console.log(`# ${line}`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backsnap-env-'));
    const started = Date.now();
    const [cp, s3] = await Promise.allSettled([startControlPlane({ dir: join(dir, 'cp'), log }), startMinio({ dir: join(dir, 'minio'), log })]);
    if (cp.status === 'fulfilled') controlPlane = cp.value;
    if (s3.status === 'fulfilled') minio = s3.value;
    if (cp.status === 'rejected') throw cp.reason;
    if (s3.status === 'rejected') throw s3.reason;
    const plane = cp.value;
    agent = await startNodeAgent({ kubeconfigPath: plane.kubeconfigPath, dataDir: join(dir, 'agent'), imagesDir: cacheImagesDir(), csiSocket: plane.csi.socketPath, log });
    log(`environment ready in ${Date.now() - started} ms (dir ${dir})`);
    kube = await KubeRest.fromKubeconfig(plane.kubeconfigPath);
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });

  let failed = false;
  // Remembers failures, so after() keeps the logs of a failed run.
  const it = (name: string, body: () => Promise<void>): void => {
    test(name, async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  };
  after(async () => {
    await agent?.stop();
    await minio?.stop();
    await controlPlane?.stop();
    // Kept when something failed: the component logs in there explain why.
    if (failed || controlPlane === undefined) log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  const jobPods = async (name: string): Promise<Pod[]> =>
    (await kube.list<Pod>(`/api/v1/namespaces/${NS}/pods?labelSelector=job-name%3D${name}`)).items;
  // A timeout says what the Job's Pods were doing, e.g. an image the node agent cannot run.
  const jobCondition = (name: string, type: string) =>
    waitFor(
      `job ${name} ${type}`,
      async () => {
        const job = await kube.get<Job>(`/apis/batch/v1/namespaces/${NS}/jobs/${name}`);
        return job?.status?.conditions?.some((c) => c.type === type && c.status === 'True') ? job : undefined;
      },
      TIMEOUT,
    ).catch(async (error: unknown) => {
      const states = (await jobPods(name)).map((p) => JSON.stringify(p.status?.containerStatuses?.map((c) => c.state)));
      throw new Error(`${String(error)}; its Pods' containers: ${states.join(' ')}`);
    });
  const boundVolume = (claim: string) =>
    waitFor(
      `pvc ${claim} bound`,
      async () => {
        const pvc = await kube.get<PersistentVolumeClaim>(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${claim}`);
        return pvc?.status?.phase === 'Bound' ? pvc.spec.volumeName : undefined;
      },
      TIMEOUT,
    );
  const dataVolume = [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }];

  it('runs a Job with a PVC to completion, with its termination message', async () => {
    await kube.create(`/api/v1/namespaces/${NS}/persistentvolumeclaims`, pvcManifest('data'));
    // A mount point that certainly does not exist on the host must not appear there.
    const leakCheck = `/backsnap-leak-check-${process.pid}/data`;
    const script = `echo hi > /data/x; test -f ${leakCheck}/x && printf done > /dev/termination-log`;
    const mounts = [
      { name: 'data', mountPath: '/data' },
      { name: 'data', mountPath: leakCheck, readOnly: true },
    ];
    await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, jobManifest('writer', script, { volumes: dataVolume, mounts }));
    await jobCondition('writer', 'Complete');
    const [pod] = await jobPods('writer');
    assert.equal(pod?.status?.phase, 'Succeeded');
    assert.equal(pod?.status?.containerStatuses?.[0]?.state.terminated?.message, 'done');
    const pv = await boundVolume('data');
    assert.equal(readFileSync(join(await volumePath(pv ?? ''), 'x'), 'utf8'), 'hi\n');
    assert.equal(existsSync('/data'), hostHadData, 'the mount must not leak into the host');
    assert.equal(existsSync(dirname(leakCheck)), false, 'the mount point must not leak into the host');
  });

  it('snapshots a PVC and restores the snapshot into a new PVC', async () => {
    await kube.create(`/apis/snapshot.storage.k8s.io/v1/namespaces/${NS}/volumesnapshots`, {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'snap', namespace: NS },
      spec: { source: { persistentVolumeClaimName: 'data' } },
    });
    const snapshot = await waitFor(
      'volumesnapshot ready',
      async () => {
        const s = await kube.get<VolumeSnapshot>(`/apis/snapshot.storage.k8s.io/v1/namespaces/${NS}/volumesnapshots/snap`);
        return s?.status?.readyToUse === true ? s : undefined;
      },
      TIMEOUT,
    );
    assert.equal(snapshot.status?.restoreSize, '1Gi');
    assert.equal(snapshot.spec.volumeSnapshotClassName, 'backsnap-test');
    const content = await kube.get<{ status?: { snapshotHandle?: string } }>(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${snapshot.status?.boundVolumeSnapshotContentName ?? ''}`);
    const snapshotFile = theControlPlane().csi.snapshotPath(content?.status?.snapshotHandle ?? '');
    assert.ok(existsSync(snapshotFile), 'the driver keeps the snapshot');
    await kube.create(`/api/v1/namespaces/${NS}/persistentvolumeclaims`, pvcManifest('restored', 'snap'));
    const pv = (await boundVolume('restored')) ?? '';
    const restoredDir = await volumePath(pv);
    assert.equal(readFileSync(join(restoredDir, 'x'), 'utf8'), 'hi\n');

    await kube.delete(`/api/v1/namespaces/${NS}/persistentvolumeclaims/restored`);
    await waitFor('restored volume deleted', async () => ((await kube.get(`/api/v1/persistentvolumes/${pv}`)) === undefined && !existsSync(restoredDir) ? true : undefined), TIMEOUT);
    await kube.delete(`/apis/snapshot.storage.k8s.io/v1/namespaces/${NS}/volumesnapshots/snap`);
    await waitFor('snapshot data removed', async () => (existsSync(snapshotFile) ? undefined : true), TIMEOUT);
  });

  it('fails a Job whose container exits non-zero', async () => {
    await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, jobManifest('failing', 'echo about to fail; exit 3'));
    await jobCondition('failing', 'Failed');
    const [pod] = await jobPods('failing');
    assert.equal(pod?.status?.phase, 'Failed');
    assert.equal(pod?.status?.containerStatuses?.[0]?.state.terminated?.exitCode, 3);
    assert.match(theAgent().podLog(NS, pod?.metadata.name ?? ''), /about to fail/);
  });

  it("runs a container on its image's root, read-only when asked, and refuses unknown images", async () => {
    // busybox's applets, not the host's GNU tools: `ls --version` is GNU only.
    const probe = 'readlink /bin/sh; if ls --version >/dev/null 2>&1; then echo gnu; fi; touch /probe 2>/dev/null || echo read-only';
    const manifest = jobManifest('image-probe', probe) as { spec: { template: { spec: { containers: { securityContext?: unknown }[] } } } };
    for (const c of manifest.spec.template.spec.containers) c.securityContext = { readOnlyRootFilesystem: true };
    await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, manifest);
    await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, jobManifest('unknown-image', 'true', { image: 'registry.example/unknown:1' }));
    await jobCondition('image-probe', 'Complete');
    const [probed] = await jobPods('image-probe');
    assert.equal(theAgent().podLog(NS, probed?.metadata.name ?? '').trim(), '/bin/busybox\nread-only');
    const waiting = await waitFor('unknown image refused', async () => (await jobPods('unknown-image'))[0]?.status?.containerStatuses?.[0]?.state.waiting, TIMEOUT);
    assert.equal(waiting.reason, 'ErrImagePull');
    assert.match(waiting.message ?? '', /no root file system for image "registry\.example\/unknown:1"/);
    for (const job of ['image-probe', 'unknown-image']) await kube.delete(`/apis/batch/v1/namespaces/${NS}/jobs/${job}`, { propagationPolicy: 'Background' });
  });

  it('removes the Pods of a deleted Job', async () => {
    await kube.create(`/apis/batch/v1/namespaces/${NS}/jobs`, jobManifest('sleeper', 'sleep 600'));
    await waitFor('sleeper running', async () => ((await jobPods('sleeper'))[0]?.status?.phase === 'Running' ? true : undefined), TIMEOUT);
    for (const job of ['writer', 'failing', 'sleeper']) await kube.delete(`/apis/batch/v1/namespaces/${NS}/jobs/${job}`, { propagationPolicy: 'Background' });
    for (const job of ['writer', 'failing', 'sleeper']) {
      await waitFor(`pods of ${job} gone`, async () => ((await jobPods(job)).length === 0 ? true : undefined), TIMEOUT);
    }
  });

  it('lets restic init and back up into MinIO from a Job', async () => {
    assert.ok(minio);
    const repository = `s3:${minio.endpoint}/${minio.bucket}/${NS}/data`;
    const credentials = {
      AWS_ACCESS_KEY_ID: minio.accessKey,
      AWS_SECRET_ACCESS_KEY: minio.secretKey,
      RESTIC_PASSWORD: 'e2e-password',
      RESTIC_REPOSITORY: repository,
    };
    const data = Object.fromEntries(Object.entries(credentials).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    await kube.create(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'restic', namespace: NS }, data });
    const script = 'restic init && restic backup --host e2e /data && restic snapshots --compact | tail -n 3 > /dev/termination-log';
    await kube.create(
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      jobManifest('backup', script, {
        image: 'restic/restic:0.18.1',
        volumes: [...dataVolume, { name: 'tmp', emptyDir: {} }],
        mounts: [
          { name: 'data', mountPath: '/data', readOnly: true },
          { name: 'tmp', mountPath: '/tmp' },
        ],
        envFrom: [{ secretRef: { name: 'restic' } }],
        env: [
          { name: 'HOME', value: '/tmp' },
          { name: 'RESTIC_CACHE_DIR', value: '$(HOME)/restic-cache' },
        ],
      }),
    );
    try {
      await jobCondition('backup', 'Complete');
    } catch (error) {
      const [pod] = await jobPods('backup');
      throw new Error(`${String(error)}\n${theAgent().podLog(NS, pod?.metadata.name ?? '')}`);
    }
    const snapshots = execFileSync(join(controlPlane?.binDir ?? '', 'restic'), ['snapshots', '--json', '--no-cache'], {
      env: { ...process.env, ...credentials },
    }).toString();
    const parsed = JSON.parse(snapshots) as { paths: string[]; hostname: string }[];
    assert.deepEqual(parsed.map((s) => [s.hostname, s.paths]), [['e2e', ['/data']]]);
  });
});
