// Writes what is generated from the sources (run: npm run generate): crds/*.yaml and the Helm
// chart's copies from src/schema, the chart's alerts from deploy/monitoring, and the README's
// configuration table from src/config.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../src/config-table.ts';
import { renderCrdFiles } from '../src/schema/render.ts';
import { HELM_ALERTS, renderHelmAlerts } from './alerts.ts';

const root = new URL('../', import.meta.url);
for (const [path, text] of Object.entries(renderCrdFiles())) {
  writeFileSync(new URL(path, root), text);
  process.stdout.write(`wrote ${path}\n`);
}
writeFileSync(new URL(HELM_ALERTS, root), renderHelmAlerts());
process.stdout.write(`wrote ${HELM_ALERTS}\n`);
const readme = new URL('README.md', root);
writeFileSync(readme, withConfigTable(readFileSync(readme, 'utf8')));
process.stdout.write('wrote the configuration table of README.md\n');
