import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../src/schema/render.ts';

describe('CRDs', () => {
  for (const [path, text] of Object.entries(renderCrdFiles())) {
    it(`${path} is up to date with src/schema (npm run generate)`, () => {
      assert.equal(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), text);
    });
  }

  it("keeps every field of backsnap's CRDs", () => {
    const files = Object.values(renderCrdFiles()).slice(0, 2).map((t) => parse(t));
    const [backup, restore] = files.map((crd) => crd.spec.versions[0].schema.openAPIV3Schema.properties);
    assert.deepEqual(Object.keys(backup.spec.properties).sort(), ['annotations', 'labels', 'nodeSelector', 'priorityClassName', 'pvc', 'tolerations', 'ttl']);
    assert.deepEqual(backup.spec.required, ['pvc']);
    assert.deepEqual(
      Object.keys(restore.spec.properties).sort(),
      ['annotations', 'labels', 'nodeSelector', 'priorityClassName', 'restoreAsOf', 'sourceNamespace', 'sourcePvc', 'sourceSnapshot', 'targetPvc', 'targetPvcSize', 'tolerations', 'ttl'],
    );
    for (const props of [backup, restore]) {
      for (const field of ['startedAt', 'finishedAt', 'duration', 'result']) assert.ok(props.status.properties[field], `status.${field}`);
      assert.deepEqual(props.status.properties.result.enum, ['Succeeded', 'Failed']);
    }
  });
});
