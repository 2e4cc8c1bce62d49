// Golden payloads: sync requests assembled from objects captured from a real API server (the
// sandbox, `kubectl get -o json`), answered by the real routes, compared with committed answers.
// After an intended change: UPDATE_GOLDEN=1 npm test, then review the diff of test/golden/*.json.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { GOLDEN_CASES } from './payloads.ts';
import { describe, it } from 'node:test';
import { HOOK_AUTH, testApp, testConfig } from '../support/fixtures.ts';

const NOW = new Date('2026-11-29T07:24:00Z');
const app = testApp(testConfig(), NOW);
describe('golden payloads', () => {
  for (const c of GOLDEN_CASES) {
    it(c.name, async () => {
      const reply = await app.inject({ method: 'POST', url: c.url, payload: c.body() as object, headers: HOOK_AUTH });
      assert.equal(reply.statusCode, 200, reply.body);
      const file = new URL(`${c.name}.response.json`, import.meta.url);
      const answer = `${JSON.stringify(reply.json(), null, 2)}\n`;
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, answer);
      assert.equal(answer, readFileSync(file, 'utf8'));
    });
  }
});
