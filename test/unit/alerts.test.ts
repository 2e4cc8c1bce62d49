import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HELM_ALERTS, renderHelmAlerts } from '../../scripts/alerts.ts';

describe('alerts', () => {
  it("the Helm chart's alerts are the PrometheusRule's (npm run generate)", () => {
    assert.equal(readFileSync(new URL(`../../${HELM_ALERTS}`, import.meta.url), 'utf8'), renderHelmAlerts());
  });
});
