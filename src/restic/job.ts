// The restic Job both backups and restores run: a hardened Pod, credentials only from a Secret.
import type { Config } from '../config.ts';
import type { Job, Labels, PodSpec, Toleration } from '../kube/types.ts';
import { RUN_UID_LABEL } from '../labels.ts';

export const RESTIC_CONTAINER = 'restic';
export const TERMINATION_LOG = '/dev/termination-log';

/** What a run says about where its Pod goes and how its objects are labelled (from the CR spec). */
export interface PodPlacement {
  nodeSelector?: Labels;
  tolerations?: Toleration[];
  priorityClassName?: string;
}

/** The placement fields of a PVCBackup or PVCRestore spec, without absent ones. */
export function placementOf(spec: PodPlacement): PodPlacement {
  const { nodeSelector, tolerations, priorityClassName } = spec;
  return {
    ...(nodeSelector === undefined ? {} : { nodeSelector }),
    ...(tolerations === undefined ? {} : { tolerations }),
    ...(priorityClassName === undefined ? {} : { priorityClassName }),
  };
}

export interface ResticJobInput {
  name: string;
  namespace: string;
  runUid: string;
  labels: Labels;
  annotations: Labels;
  placement: PodPlacement;
  script: string;
  /** Non-secret settings of the script. */
  env: Record<string, string>;
  secretName: string;
  claimName: string;
  readOnly: boolean;
  /** Linux capabilities beyond none: reading (backup) or writing with original owners (restore). */
  capabilities: string[];
}

export function resticJob(input: ResticJobInput, config: Config): Job {
  const { placement } = input;
  const podSpec: PodSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    // Root is needed to read and write files of any owner; capabilities limit what root may do.
    securityContext: { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: RESTIC_CONTAINER,
        image: config.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['/bin/sh', '-c', input.script],
        env: [
          ...Object.keys(input.env)
            .sort()
            .map((name) => ({ name, value: input.env[name] ?? '' })),
          { name: 'HOME', value: '/tmp' },
          { name: 'RESTIC_CACHE_DIR', value: '/tmp/restic-cache' },
        ],
        envFrom: [{ secretRef: { name: input.secretName } }],
        volumeMounts: [
          { name: 'data', mountPath: '/data', readOnly: input.readOnly },
          { name: 'tmp', mountPath: '/tmp' },
        ],
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'], add: input.capabilities },
        },
        terminationMessagePath: TERMINATION_LOG,
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
    ],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: input.claimName, readOnly: input.readOnly } },
      { name: 'tmp', emptyDir: {} },
    ],
    ...(placement.nodeSelector === undefined ? {} : { nodeSelector: placement.nodeSelector }),
    ...(placement.tolerations === undefined ? {} : { tolerations: placement.tolerations }),
    ...(placement.priorityClassName === undefined ? {} : { priorityClassName: placement.priorityClassName }),
    ...(config.imagePullSecret === undefined ? {} : { imagePullSecrets: [{ name: config.imagePullSecret }] }),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.name, namespace: input.namespace, labels: input.labels, annotations: input.annotations },
    spec: {
      backoffLimit: config.jobBackoffLimit,
      activeDeadlineSeconds: Math.ceil(config.jobTimeoutMs / 1000),
      template: {
        metadata: { labels: { ...input.labels, [RUN_UID_LABEL]: input.runUid }, annotations: input.annotations },
        spec: podSpec,
      },
    },
  };
}
