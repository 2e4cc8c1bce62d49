import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, namespaceInScope, parseConfig } from '../../src/config.ts';
import { withConfigTable } from '../../src/config-table.ts';

const minimal = { BACKSNAP_REPOSITORY_BASE: 's3:https://s3.example.com/bucket/', BACKSNAP_RESTIC_PASSWORD: 'pw', BACKSNAP_HOOK_TOKEN: 'hook' };

describe('configuration', () => {
  it('applies defaults', () => {
    const result = parseConfig(minimal);
    assert.ok(result.ok);
    assert.equal(result.config.repositoryBase, 's3:https://s3.example.com/bucket', 'trailing slash removed');
    assert.equal(result.config.maxRunningBackups, 1);
    assert.equal(result.config.defaultSchedule, '@daily');
    assert.equal(result.config.image, 'restic/restic:0.18.1');
    assert.deepEqual(result.config.repositoryEnv, { RESTIC_PASSWORD: 'pw' });
  });

  it("builds backsnap's S3 base from host and bucket", () => {
    const result = parseConfig({ BACKSNAP_S3_HOST: 'http://minio:9000/', BACKSNAP_S3_BUCKET: 'b', BACKSNAP_RESTIC_PASSWORD: 'pw', BACKSNAP_S3_ACCESS_KEY_ID: 'ak', BACKSNAP_S3_SECRET_ACCESS_KEY: 'sk', BACKSNAP_HOOK_TOKEN: 'hook' });
    assert.ok(result.ok);
    assert.equal(result.config.repositoryBase, 's3:http://minio:9000/b');
    assert.deepEqual(result.config.repositoryEnv, { RESTIC_PASSWORD: 'pw', AWS_ACCESS_KEY_ID: 'ak', AWS_SECRET_ACCESS_KEY: 'sk' });
  });

  it('passes other restic variables through', () => {
    const result = parseConfig({ ...minimal, BACKSNAP_REPOSITORY_ENV_B2_ACCOUNT_KEY: 'k', BACKSNAP_REPOSITORY_ENV_AWS_DEFAULT_REGION: 'eu-west-1' });
    assert.ok(result.ok);
    assert.deepEqual(result.config.repositoryEnv, { RESTIC_PASSWORD: 'pw', AWS_DEFAULT_REGION: 'eu-west-1', B2_ACCOUNT_KEY: 'k' });
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['no repository', { BACKSNAP_RESTIC_PASSWORD: 'pw' }, /BACKSNAP_REPOSITORY_BASE is required/],
    ['no password', { BACKSNAP_REPOSITORY_BASE: '/repo' }, /BACKSNAP_RESTIC_PASSWORD is required/],
    ['bad number', { ...minimal, BACKSNAP_MAX_RUNNING_BACKUPS: 'two' }, /BACKSNAP_MAX_RUNNING_BACKUPS/],
    ['bad duration', { ...minimal, BACKSNAP_SNAPSHOT_TIMEOUT: '15 minutes' }, /BACKSNAP_SNAPSHOT_TIMEOUT/],
    ['bad boolean', { ...minimal, BACKSNAP_MANUAL: 'yes' }, /BACKSNAP_MANUAL/],
    ['bad time zone', { ...minimal, BACKSNAP_TIME_ZONE: 'Mars/Olympus' }, /BACKSNAP_TIME_ZONE/],
    ['bad pass-through name', { ...minimal, 'BACKSNAP_REPOSITORY_ENV_1X': 'v' }, /not a variable name/],
    ['no hook token', { BACKSNAP_REPOSITORY_BASE: '/repo', BACKSNAP_RESTIC_PASSWORD: 'pw' }, /BACKSNAP_HOOK_TOKEN is required/],
    ['a previous hook token alone', { BACKSNAP_REPOSITORY_BASE: '/repo', BACKSNAP_RESTIC_PASSWORD: 'pw', BACKSNAP_HOOK_TOKEN_PREVIOUS: 'old' }, /without BACKSNAP_HOOK_TOKEN/],
    ['one port for two servers', { ...minimal, BACKSNAP_OPERATIONS_PORT: '8080' }, /must differ/],
  ];
  for (const [name, env, error] of invalid) {
    it(`rejects ${name} with a clear error`, () => {
      const result = parseConfig(env);
      assert.ok(!result.ok);
      assert.match(result.errors.join('\n'), error);
    });
  }

  it('excludes win over allows', () => {
    const namespaces = { allow: ['a', 'b'], exclude: ['b'] };
    assert.deepEqual(['a', 'b', 'c'].map((ns) => namespaceInScope({ namespaces }, ns)), [true, false, false]);
    assert.equal(namespaceInScope({ namespaces: { allow: [], exclude: [] } }, 'any'), true);
  });

  it('documents every variable in the README (npm run generate)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    assert.equal(readme, withConfigTable(readme));
    for (const variable of CONFIG_VARIABLES) assert.ok(readme.includes(`\`${variable.name}\``), `${variable.name} is missing from the README`);
  });
});
