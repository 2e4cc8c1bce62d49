import { stringify } from 'yaml';
import { pvcBackupCrd, pvcRestoreCrd } from './crds.ts';

const HEADER = '# Generated from src/schema by `npm run generate`; do not edit.\n';

/** The committed CRD files, by path relative to the repository root. */
export function renderCrdFiles(): Record<string, string> {
  return {
    'crds/pvcbackups.backsnap.skyb.it.yaml': HEADER + stringify(pvcBackupCrd, { lineWidth: 0 }),
    'crds/pvcrestores.backsnap.skyb.it.yaml': HEADER + stringify(pvcRestoreCrd, { lineWidth: 0 }),
  };
}
