// Writes crds/*.yaml from the schemas in src/schema (run: npm run generate).
import { writeFileSync } from 'node:fs';
import { renderCrdFiles } from '../src/schema/render.ts';

for (const [path, text] of Object.entries(renderCrdFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  process.stdout.write(`wrote ${path}\n`);
}
