import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedName } from '../../src/names.ts';

describe('boundedName', () => {
  it('keeps short names as they are', () => assert.equal(boundedName(['backup', 'data-1732838400']), 'backup-data-1732838400'));
  it('truncates long names to 63 characters ending in a hash', () => {
    const name = boundedName(['backup', 'x'.repeat(200)]);
    assert.equal(name.length, 63);
    assert.match(name, /^backup-x+-[0-9a-f]{8}$/);
  });
  it('keeps distinct long names distinct', () => {
    assert.notEqual(boundedName(['backup', `${'x'.repeat(100)}-1`]), boundedName(['backup', `${'x'.repeat(100)}-2`]));
  });
  it('never ends the truncated part with a separator', () => {
    const name = boundedName(['backup', `${'x'.repeat(46)}.-.-${'y'.repeat(40)}`]);
    assert.doesNotMatch(name, /[-.]-[0-9a-f]{8}$/);
  });
});
