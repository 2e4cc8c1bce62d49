// The two CustomResourceDefinitions, built from the same schemas the hooks validate against.
// `npm run generate` writes them to crds/; a test checks that the committed files match.
import type { TSchema } from '@sinclair/typebox';
import { PVCBackupSpecSchema, PVCBackupStatusSchema } from './pvcbackup.ts';
import { PVCRestoreSpecSchema, PVCRestoreStatusSchema } from './pvcrestore.ts';

export const GROUP = 'backsnap.skyb.it';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** A schema as plain JSON: drops TypeBox's symbol keys. */
function plain(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}

function crd(kind: string, shortName: string, spec: TSchema, status: TSchema, what: string, columns: PrinterColumn[]) {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'backsnap' } },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: [shortName],
        categories: ['backsnap'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            ...columns,
            { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: `Phase of the ${what}` },
            { name: 'Result', type: 'string', jsonPath: '.status.result', description: `Whether the ${what} succeeded` },
            { name: 'Started at', type: 'string', jsonPath: '.status.startedAt', description: `When the ${what} started` },
            { name: 'Duration', type: 'string', jsonPath: '.status.duration', description: `How long the ${what} took` },
            { name: 'Snapshot', type: 'string', jsonPath: '.status.snapshotId', description: 'restic snapshot id', priority: 1 },
            { name: 'Message', type: 'string', jsonPath: '.status.message', description: 'State in words', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: `When the ${what} was requested` },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${kind} of backsnap (see https://github.com/skybitsnl/backsnap).`,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: plain(spec),
                status: plain(status),
              },
            },
          },
        },
      ],
    },
  };
}

export const pvcBackupCrd = crd('PVCBackup', 'pvcb', PVCBackupSpecSchema, PVCBackupStatusSchema, 'backup', [
  { name: 'PVC', type: 'string', jsonPath: '.spec.pvc', description: 'PVC that is backed up' },
]);

export const pvcRestoreCrd = crd('PVCRestore', 'pvcr', PVCRestoreSpecSchema, PVCRestoreStatusSchema, 'restore', [
  { name: 'Source', type: 'string', jsonPath: '.spec.sourcePvc', description: 'PVC whose backup is restored' },
  { name: 'Target', type: 'string', jsonPath: '.spec.targetPvc', description: 'PVC that is created' },
]);
