import { stringify } from 'yaml';
import { pvcBackupCrd, pvcRestoreCrd } from './crds.ts';

const HEADER = '# Generated from src/schema by `npm run generate`; do not edit.\n';

/** The committed CRD files (crds/ and the Helm chart's copy), by path from the repository root. */
export function renderCrdFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dir of ['crds', 'deploy/helm/backsnap-ts/crds']) {
    files[`${dir}/pvcbackups.backsnap.skyb.it.yaml`] = HEADER + stringify(pvcBackupCrd, { lineWidth: 0 });
    files[`${dir}/pvcrestores.backsnap.skyb.it.yaml`] = HEADER + stringify(pvcRestoreCrd, { lineWidth: 0 });
  }
  return files;
}
