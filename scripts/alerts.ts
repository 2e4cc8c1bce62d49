// The Helm chart's alert rules are the kustomize PrometheusRule's groups, so the two cannot drift
// (written by npm run generate, checked by test/unit/alerts.test.ts).
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const root = new URL('../', import.meta.url);
export const HELM_ALERTS = 'deploy/helm/backsnap-ts/files/alerts.yaml';

export function renderHelmAlerts(): string {
  const rule = parse(readFileSync(new URL('deploy/monitoring/prometheusrule.yaml', root), 'utf8')) as { spec: { groups: unknown[] } };
  return `# Generated from deploy/monitoring/prometheusrule.yaml by npm run generate; do not edit.\n${stringify({ groups: rule.spec.groups }, { lineWidth: 0 })}`;
}
