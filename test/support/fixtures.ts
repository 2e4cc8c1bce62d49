// Builders of Metacontroller v2 payloads and Kubernetes objects for tests.
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServers, type AppDeps, type Servers } from '../../src/app.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import type { ConfigMap, Job, KubeObject, PersistentVolumeClaim, Pod, VolumeSnapshot, Namespace } from '../../src/kube/types.ts';
import { admissionTicket, volumeTicket } from '../../src/backup/admission.ts';
import type { CompositeSyncRequest, ObjectGroups } from '../../src/metacontroller/types.ts';
import type { PVCBackup } from '../../src/backup/types.ts';
import type { PVCRestore } from '../../src/restore/types.ts';

export const NOW = new Date('2026-11-29T12:00:00Z');
export const SECRET_VALUES = ['s3cr3t-restic-password', 'AKIA-test-access-key', 'test-secret-access-key-value'];
export const HOOK_TOKEN = 'test-hook-token';
/** What Metacontroller sends with every hook call. */
export const HOOK_AUTH = { authorization: `Bearer ${HOOK_TOKEN}` };

export const TEST_ENV: Record<string, string> = {
  BACKSNAP_S3_HOST: 'http://minio.backsnap:9000',
  BACKSNAP_S3_BUCKET: 'backups',
  BACKSNAP_RESTIC_PASSWORD: SECRET_VALUES[0] ?? '',
  BACKSNAP_S3_ACCESS_KEY_ID: SECRET_VALUES[1] ?? '',
  BACKSNAP_S3_SECRET_ACCESS_KEY: SECRET_VALUES[2] ?? '',
  BACKSNAP_HOOK_TOKEN: HOOK_TOKEN,
  BACKSNAP_LOG_LEVEL: 'silent',
};

export function testConfig(overrides: Record<string, string> = {}): Config {
  const result = parseConfig({ ...TEST_ENV, ...overrides });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

export function testServers(config: Config = testConfig(), now: Date | (() => Date) = NOW, cluster?: AppDeps['cluster']): Servers {
  return buildServers({ config, logger: pino({ level: 'silent' }), now: typeof now === 'function' ? now : () => now, ...(cluster === undefined ? {} : { cluster }) });
}

/** The hook server. */
export function testApp(config: Config = testConfig(), now: Date = NOW): FastifyInstance {
  return testServers(config, now).hooks;
}

export function minutesAgo(minutes: number, from: Date = NOW): string {
  return new Date(from.getTime() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const CONTROLLER = { apiVersion: 'metacontroller.k8s.io/v1alpha1', kind: 'CompositeController' as const, metadata: { name: 'test' } };

export function groups(objects: readonly KubeObject[]): ObjectGroups {
  const result: ObjectGroups = {};
  for (const o of objects) {
    const group = `${o.kind}.${o.apiVersion}`;
    const key = o.metadata.namespace === undefined ? o.metadata.name : `${o.metadata.namespace}/${o.metadata.name}`;
    result[group] = { ...result[group], [key]: o };
  }
  return result;
}

export function syncRequest<P extends KubeObject>(parent: P, children: readonly KubeObject[], related: readonly KubeObject[], childGroups: readonly string[]): CompositeSyncRequest<P> {
  const observed = groups(children);
  for (const group of childGroups) observed[group] ??= {};
  return { controller: CONTROLLER, parent, children: observed, related: groups(related), finalizing: false };
}

export const BACKUP_CHILD_GROUPS = ['Secret.v1', 'VolumeSnapshot.snapshot.storage.k8s.io/v1', 'PersistentVolumeClaim.v1', 'Job.batch/v1'];
export const RESTORE_CHILD_GROUPS = ['Secret.v1', 'PersistentVolumeClaim.v1', 'Job.batch/v1'];

export function backup(name: string, spec: unknown, extra: Partial<PVCBackup> = {}, namespace = 'apps'): PVCBackup {
  return {
    apiVersion: 'backsnap.skyb.it/v1alpha1',
    kind: 'PVCBackup',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1, creationTimestamp: minutesAgo(1) },
    spec,
    ...extra,
  };
}

export function restore(name: string, spec: unknown, extra: Partial<PVCRestore> = {}, namespace = 'apps'): PVCRestore {
  return {
    apiVersion: 'backsnap.skyb.it/v1alpha1',
    kind: 'PVCRestore',
    metadata: { name, namespace, uid: `uid-restore-${namespace}-${name}`, generation: 1, creationTimestamp: minutesAgo(1) },
    spec,
    ...extra,
  };
}

export function pvc(name: string, namespace = 'apps', extra: { phase?: string; size?: string; storageClassName?: string; ownerUid?: string; annotations?: Record<string, string> } = {}): PersistentVolumeClaim {
  const size = extra.size ?? '1Gi';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace,
      uid: `uid-pvc-${namespace}-${name}`,
      ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }),
      ...(extra.ownerUid === undefined ? {} : { ownerReferences: [{ apiVersion: 'x/v1', kind: 'X', name: 'owner', uid: extra.ownerUid, controller: true }] }),
    },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: extra.storageClassName ?? 'fast-ssd', resources: { requests: { storage: size } }, volumeName: `pv-${name}` },
    status: { phase: extra.phase ?? 'Bound', capacity: { storage: size } },
  };
}

export function namespace(name: string, annotations: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-ns-${name}`, annotations } };
}

export function readySnapshot(snapshot: VolumeSnapshot, restoreSize = '1Gi'): VolumeSnapshot {
  return { ...snapshot, status: { readyToUse: true, restoreSize } };
}

/** The Job as its controller leaves it when it completed or failed at `at`. */
export function finishedJob(job: Job, type: 'Complete' | 'Failed', at: Date, reason = type === 'Failed' ? 'BackoffLimitExceeded' : 'Completed', message = ''): Job {
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    ...job,
    status: {
      conditions: [{ type, status: 'True', reason, message, lastTransitionTime: time }],
      ...(type === 'Complete' ? { completionTime: time, succeeded: 1 } : { failed: 1 }),
    },
  };
}

export function terminatedPod(namespace: string, runUid: string, exitCode: number, message: string, name = 'job-pod-1', finishedAt = minutesAgo(0.2)): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${name}`, labels: { 'backsnap.skyb.it/run-uid': runUid } },
    status: {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: 'restic', state: { terminated: { exitCode, message, finishedAt, reason: exitCode === 0 ? 'Completed' : 'Error' } } }],
    },
  };
}

export const BACKUP_SUMMARY = JSON.stringify({
  message_type: 'summary',
  files_new: 3,
  files_changed: 1,
  files_unmodified: 10,
  dirs_new: 1,
  data_added: 4096,
  total_files_processed: 14,
  total_bytes_processed: 104857600,
  total_duration: 1.5,
  snapshot_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
});

/** The backup queue's tickets a waiting backup sees when it may start: its PVC's volume and its admission. */
export function admissionTickets(b: PVCBackup): ConfigMap[] {
  return [volumeTicket(b), admissionTicket(b)];
}
