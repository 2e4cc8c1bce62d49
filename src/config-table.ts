import { CONFIG_VARIABLES } from './config.ts';

export const CONFIG_TABLE_START = '<!-- config-table: generated from src/config.ts by `npm run generate` -->';
export const CONFIG_TABLE_END = '<!-- /config-table -->';

/** The README's configuration table. */
export function configTable(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${v.default === '' ? '' : `\`${v.default}\``} | ${v.description}${v.secret === true ? ' *(secret)*' : ''} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The README with its configuration table replaced by the current one. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_START);
  const end = readme.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md lacks the config-table markers');
  return `${readme.slice(0, start + CONFIG_TABLE_START.length)}\n${configTable()}\n${readme.slice(end)}`;
}
