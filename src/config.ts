// Configuration of the hook service, from environment variables, validated once at start.
// Every variable is listed in CONFIG_VARIABLES (the README's table is checked against it).
import { parseGoDuration } from './duration.ts';
import { parsePolicy } from './retention/policy.ts';
import { PVCBackupSpecSchema, type PVCBackupSpec } from './schema/pvcbackup.ts';
import { validator } from './schema/validate.ts';

/** Operator-level defaults of automatic PVCBackups (backsnap could not set these at all). */
export type AutomaticBackupDefaults = Pick<PVCBackupSpec, 'nodeSelector' | 'tolerations' | 'priorityClassName' | 'labels' | 'annotations'>;

export interface Config {
  listenHost: string;
  port: number;
  logLevel: string;
  bodyLimitBytes: number;
  /** Repository of a PVC: `${repositoryBase}/${namespace}/${pvc}` (backsnap's layout). */
  repositoryBase: string;
  /** Credentials restic needs, put in a Secret next to each Job (never in a Pod spec). */
  repositoryEnv: Record<string, string>;
  /** Each namespace's repositories get a password derived from the shared one (src/restic/credentials.ts). */
  perNamespacePasswords: boolean;
  image: string;
  imagePullSecret: string | undefined;
  snapshotClass: string | undefined;
  storageClass: string | undefined;
  maxRunningBackups: number;
  /** Backups next in line take their snapshot while they wait (src/backup/admission.ts). */
  snapshotAhead: boolean;
  namespaces: { allow: string[]; exclude: string[] };
  defaultSchedule: string;
  manual: boolean;
  timeZone: string | undefined;
  automaticBackupTtl: string;
  automaticBackupDefaults: AutomaticBackupDefaults;
  snapshotTimeoutMs: number;
  jobTimeoutMs: number;
  startGraceMs: number;
  resultGraceMs: number;
  housekeepingGraceMs: number;
  nudgeIntervalMs: number;
  /** The default retention policy (src/retention/policy.ts), validated. */
  retention: string;
  pruneIntervalMs: number;
  checkIntervalMs: number;
  /** `restic check --read-data-subset`, e.g. `5%` or `1/20`. */
  checkReadDataSubset: string;
  jobBackoffLimit: number;
  allowCrossNamespaceRestore: boolean;
  /** Bearer tokens accepted on hook calls: the current one and, during a rotation, the previous one. Empty only with the opt-out. */
  hookTokens: string[];
  housekeepingToken: string | undefined;
  operationsPort: number;
  metricsPort: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
  secret?: boolean;
}

export const REPOSITORY_ENV_PREFIX = 'BACKSNAP_REPOSITORY_ENV_';

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'BACKSNAP_REPOSITORY_BASE', default: '', description: 'restic repository URL under which each PVC gets `<namespace>/<pvc>`: `s3:https://host/bucket`, `rest:...`, `b2:bucket:`, `/local/path`, .... Required unless `BACKSNAP_S3_HOST` and `BACKSNAP_S3_BUCKET` are set.' },
  { name: 'BACKSNAP_S3_HOST', default: '', description: "backsnap's S3 host (`host`, `host:port` or `http://host:port`); with `BACKSNAP_S3_BUCKET` it makes the base `s3:<host>/<bucket>`." },
  { name: 'BACKSNAP_S3_BUCKET', default: '', description: 'S3 bucket, with `BACKSNAP_S3_HOST`.' },
  { name: 'BACKSNAP_S3_ACCESS_KEY_ID', default: '', description: 'Becomes `AWS_ACCESS_KEY_ID` of restic.', secret: true },
  { name: 'BACKSNAP_S3_SECRET_ACCESS_KEY', default: '', description: 'Becomes `AWS_SECRET_ACCESS_KEY` of restic.', secret: true },
  { name: 'BACKSNAP_RESTIC_PASSWORD', default: '', description: 'Password of the restic repositories. Required.', secret: true },
  { name: 'BACKSNAP_PER_NAMESPACE_PASSWORDS', default: 'false', description: 'true: the repositories of each namespace are encrypted with a password of their own, derived from `BACKSNAP_RESTIC_PASSWORD` and the namespace, so the Secret of a Job in one namespace cannot open another namespace\'s repositories (docs/security.md; existing repositories need the derived key added once).' },
  { name: `${REPOSITORY_ENV_PREFIX}<NAME>`, default: '', description: 'Any other variable restic needs, passed as `<NAME>` (e.g. `BACKSNAP_REPOSITORY_ENV_B2_ACCOUNT_KEY`, `..._AWS_DEFAULT_REGION`).', secret: true },
  { name: 'BACKSNAP_IMAGE', default: 'restic/restic:0.18.1', description: 'Image of the backup and restore Jobs; needs restic >= 0.17 and a POSIX `sh`.' },
  { name: 'BACKSNAP_IMAGE_PULL_SECRET', default: '', description: 'imagePullSecret of the Jobs (must exist in each namespace).' },
  { name: 'BACKSNAP_SNAPSHOT_CLASS', default: '', description: 'VolumeSnapshotClass; empty: the cluster default.' },
  { name: 'BACKSNAP_STORAGE_CLASS', default: '', description: "StorageClass of temporary backup PVCs and restored PVCs; empty: the source PVC's class for backups, the cluster default for restores." },
  { name: 'BACKSNAP_MAX_RUNNING_BACKUPS', default: '1', description: 'Cluster-wide limit of backups running at once; 0 means no limit.' },
  { name: 'BACKSNAP_SNAPSHOT_AHEAD', default: 'true', description: 'true: the backups next in line, as many as `BACKSNAP_MAX_RUNNING_BACKUPS`, take their VolumeSnapshot while they wait for a slot, so it is ready when they start; false: each snapshot is taken when its backup starts (fewer snapshots at a time, the data as of the start).' },
  { name: 'BACKSNAP_NAMESPACES', default: '', description: 'Comma-separated namespaces to work in; empty: all.' },
  { name: 'BACKSNAP_EXCLUDE_NAMESPACES', default: '', description: 'Comma-separated namespaces to ignore (wins over the allow-list).' },
  { name: 'BACKSNAP_SCHEDULE', default: '@daily', description: 'Default cron schedule of PVCs without a schedule annotation; empty: none.' },
  { name: 'BACKSNAP_MANUAL', default: 'false', description: 'true: no automatic backups at all.' },
  { name: 'BACKSNAP_TIME_ZONE', default: 'UTC', description: 'IANA time zone in which schedules are read.' },
  { name: 'BACKSNAP_AUTOMATIC_BACKUP_TTL', default: '72h', description: '`ttl` of automatically created PVCBackups.' },
  { name: 'BACKSNAP_BACKUP_NODE_SELECTOR', default: '', description: 'JSON object: `nodeSelector` of automatic PVCBackups.' },
  { name: 'BACKSNAP_BACKUP_TOLERATIONS', default: '', description: 'JSON list: `tolerations` of automatic PVCBackups.' },
  { name: 'BACKSNAP_BACKUP_PRIORITY_CLASS', default: '', description: '`priorityClassName` of automatic PVCBackups.' },
  { name: 'BACKSNAP_BACKUP_LABELS', default: '', description: 'JSON object: `labels` of automatic PVCBackups (put on their snapshot, PVC and Job).' },
  { name: 'BACKSNAP_BACKUP_ANNOTATIONS', default: '', description: 'JSON object: `annotations` of automatic PVCBackups.' },
  { name: 'BACKSNAP_SNAPSHOT_TIMEOUT', default: '15m', description: 'A VolumeSnapshot not ready after this fails the backup.' },
  { name: 'BACKSNAP_JOB_TIMEOUT', default: '6h', description: '`activeDeadlineSeconds` of backup and restore Jobs.' },
  { name: 'BACKSNAP_START_GRACE', default: '2m', description: 'How long a missing or unbound source PVC (or missing namespace) is waited for before the run fails.' },
  { name: 'BACKSNAP_RESULT_GRACE', default: '1m', description: "How long a finished Job's Pod is waited for to read restic's summary." },
  { name: 'BACKSNAP_HOUSEKEEPING_GRACE', default: '15m', description: 'Housekeeping creates a due automatic backup itself when the scheduler is this late (a safety net).' },
  { name: 'BACKSNAP_RETENTION', default: 'last=1,hourly=12,daily=7,weekly=2,monthly=2', description: "Retention of each PVC's snapshots, applied by `restic forget` after every successful backup (backsnap's policy by default). Rules `last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly` (counts) and `within` (e.g. `30d`), or `all`; a PVC's or Namespace's `backsnap.skyb.it/retention` annotation overrides it." },
  { name: 'BACKSNAP_PRUNE_INTERVAL', default: '168h', description: "How often each repository is pruned (`restic prune`, in the first backup after it is due). `0`: never." },
  { name: 'BACKSNAP_CHECK_INTERVAL', default: '720h', description: "How often each repository is checked (`restic check --read-data-subset`, in the first backup after it is due). `0`: never." },
  { name: 'BACKSNAP_CHECK_READ_DATA_SUBSET', default: '5%', description: 'Share of the pack files a check reads and verifies (`5%`, `1/20`, `100%`).' },
  { name: 'BACKSNAP_NUDGE_INTERVAL', default: '30s', description: "How often the service looks for runs whose Job finished (more than 10 s ago) without a recorded result, as after a hook outage while Metacontroller's retry backoff grows, and touches them so Metacontroller syncs them at once; also done at start. `0`: never." },
  { name: 'BACKSNAP_JOB_BACKOFF_LIMIT', default: '2', description: '`backoffLimit` of the Jobs.' },
  { name: 'BACKSNAP_ALLOW_CROSS_NAMESPACE_RESTORE', default: 'false', description: 'true: any namespace may restore any other namespace\'s backups. Otherwise the source Namespace must list the target in its `backsnap.skyb.it/allow-restore-to` annotation.' },
  { name: 'BACKSNAP_HOOK_TOKEN', default: '', description: 'Bearer token Metacontroller must send on hook calls (Metacontroller >= 4.16, `authorization` of each webhook). Required: without it the service does not start, unless `BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS=true`.', secret: true },
  { name: 'BACKSNAP_HOOK_TOKEN_PREVIOUS', default: '', description: 'A second accepted hook token, while a new `BACKSNAP_HOOK_TOKEN` is rolled out (docs/security.md: rotation).', secret: true },
  { name: 'BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS', default: 'false', description: 'true: accept hook calls without a token (anyone who reaches the hook port can read the repository credentials from the answers). Logged as a warning at start and exported as `backsnap_hook_authentication_enabled 0`.' },
  { name: 'BACKSNAP_HOUSEKEEPING_TOKEN', default: '', description: 'Bearer token required by `POST /v1/housekeeping`; empty: the endpoint is disabled.', secret: true },
  { name: 'BACKSNAP_HOST', default: '0.0.0.0', description: 'Address the service listens on.' },
  { name: 'BACKSNAP_PORT', default: '8080', description: 'Port of the hook routes (`/hooks/...`), for Metacontroller only.' },
  { name: 'BACKSNAP_OPERATIONS_PORT', default: '8081', description: 'Port of `POST /v1/housekeeping` and `GET /debug/schedules`.' },
  { name: 'BACKSNAP_METRICS_PORT', default: '9090', description: 'Port of `/metrics`, `/healthz` and `/readyz`.' },
  { name: 'BACKSNAP_LOG_LEVEL', default: 'info', description: 'pino log level.' },
  { name: 'BACKSNAP_BODY_LIMIT_MIB', default: '64', description: 'Largest hook request accepted (sync requests carry every related object).' },
];

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** backsnap's `-s3-host`: `host`, `host:port` or a URL; restic's s3 backend takes them as they are. */
function s3Base(host: string, bucket: string): string {
  return `s3:${host.replace(/\/+$/, '')}/${bucket}`;
}

export function parseConfig(env: Env): ConfigResult {
  const errors: string[] = [];
  const get = (name: string): string => {
    const value = env[name];
    if (value !== undefined) return value;
    return CONFIG_VARIABLES.find((v) => v.name === name)?.default ?? '';
  };
  const int = (name: string, min: number): number => {
    const text = get(name).trim();
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || n < min) errors.push(`${name}=${JSON.stringify(text)} must be an integer >= ${min}`);
    return n;
  };
  const bool = (name: string): boolean => {
    const text = get(name).trim().toLowerCase();
    if (!['true', 'false', '1', '0', ''].includes(text)) errors.push(`${name}=${JSON.stringify(text)} must be true or false`);
    return text === 'true' || text === '1';
  };
  const duration = (name: string): number => {
    const ms = parseGoDuration(get(name).trim());
    if (ms === undefined || ms <= 0) errors.push(`${name}=${JSON.stringify(get(name))} must be a positive duration such as 90s, 15m or 6h`);
    return ms ?? 0;
  };
  /** A duration where `0` switches the feature off. */
  const durationOrOff = (name: string): number => (get(name).trim() === '0' ? 0 : duration(name));

  const s3Host = optional(get('BACKSNAP_S3_HOST'));
  const s3Bucket = optional(get('BACKSNAP_S3_BUCKET'));
  let repositoryBase = optional(get('BACKSNAP_REPOSITORY_BASE'))?.replace(/\/+$/, '') ?? '';
  if (repositoryBase === '') {
    if (s3Host !== undefined && s3Bucket !== undefined) repositoryBase = s3Base(s3Host, s3Bucket);
    else errors.push('BACKSNAP_REPOSITORY_BASE is required (or BACKSNAP_S3_HOST with BACKSNAP_S3_BUCKET)');
  }

  const repositoryEnv: Record<string, string> = {};
  const password = get('BACKSNAP_RESTIC_PASSWORD');
  if (password === '') errors.push('BACKSNAP_RESTIC_PASSWORD is required: restic cannot open a repository without it');
  else repositoryEnv['RESTIC_PASSWORD'] = password;
  const accessKey = optional(get('BACKSNAP_S3_ACCESS_KEY_ID'));
  const secretKey = optional(get('BACKSNAP_S3_SECRET_ACCESS_KEY'));
  if (accessKey !== undefined) repositoryEnv['AWS_ACCESS_KEY_ID'] = accessKey;
  if (secretKey !== undefined) repositoryEnv['AWS_SECRET_ACCESS_KEY'] = secretKey;
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(REPOSITORY_ENV_PREFIX)) continue;
    const target = name.slice(REPOSITORY_ENV_PREFIX.length);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) errors.push(`${name}: ${JSON.stringify(target)} is not a variable name`);
    else repositoryEnv[target] = env[name] ?? '';
  }

  const timeZone = optional(get('BACKSNAP_TIME_ZONE'));
  if (timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      errors.push(`BACKSNAP_TIME_ZONE=${JSON.stringify(timeZone)} is not an IANA time zone`);
    }
  }
  const ttl = get('BACKSNAP_AUTOMATIC_BACKUP_TTL').trim();
  if (parseGoDuration(ttl) === undefined) errors.push(`BACKSNAP_AUTOMATIC_BACKUP_TTL=${JSON.stringify(ttl)} is not a duration`);

  const automaticBackupDefaults = backupDefaults(get, errors);

  const config: Config = {
    listenHost: get('BACKSNAP_HOST').trim(),
    port: int('BACKSNAP_PORT', 0),
    logLevel: get('BACKSNAP_LOG_LEVEL').trim(),
    bodyLimitBytes: int('BACKSNAP_BODY_LIMIT_MIB', 1) * 1024 * 1024,
    repositoryBase,
    repositoryEnv,
    perNamespacePasswords: bool('BACKSNAP_PER_NAMESPACE_PASSWORDS'),
    image: get('BACKSNAP_IMAGE').trim(),
    imagePullSecret: optional(get('BACKSNAP_IMAGE_PULL_SECRET')),
    snapshotClass: optional(get('BACKSNAP_SNAPSHOT_CLASS')),
    storageClass: optional(get('BACKSNAP_STORAGE_CLASS')),
    maxRunningBackups: int('BACKSNAP_MAX_RUNNING_BACKUPS', 0),
    snapshotAhead: bool('BACKSNAP_SNAPSHOT_AHEAD'),
    namespaces: { allow: list(get('BACKSNAP_NAMESPACES')), exclude: list(get('BACKSNAP_EXCLUDE_NAMESPACES')) },
    defaultSchedule: get('BACKSNAP_SCHEDULE').trim(),
    manual: bool('BACKSNAP_MANUAL'),
    timeZone,
    automaticBackupTtl: ttl,
    automaticBackupDefaults,
    snapshotTimeoutMs: duration('BACKSNAP_SNAPSHOT_TIMEOUT'),
    jobTimeoutMs: duration('BACKSNAP_JOB_TIMEOUT'),
    startGraceMs: duration('BACKSNAP_START_GRACE'),
    resultGraceMs: duration('BACKSNAP_RESULT_GRACE'),
    housekeepingGraceMs: duration('BACKSNAP_HOUSEKEEPING_GRACE'),
    nudgeIntervalMs: durationOrOff('BACKSNAP_NUDGE_INTERVAL'),
    retention: get('BACKSNAP_RETENTION').trim(),
    pruneIntervalMs: durationOrOff('BACKSNAP_PRUNE_INTERVAL'),
    checkIntervalMs: durationOrOff('BACKSNAP_CHECK_INTERVAL'),
    checkReadDataSubset: get('BACKSNAP_CHECK_READ_DATA_SUBSET').trim(),
    jobBackoffLimit: int('BACKSNAP_JOB_BACKOFF_LIMIT', 0),
    allowCrossNamespaceRestore: bool('BACKSNAP_ALLOW_CROSS_NAMESPACE_RESTORE'),
    hookTokens: [optional(get('BACKSNAP_HOOK_TOKEN')), optional(get('BACKSNAP_HOOK_TOKEN_PREVIOUS'))].filter((t): t is string => t !== undefined),
    housekeepingToken: optional(get('BACKSNAP_HOUSEKEEPING_TOKEN')),
    operationsPort: int('BACKSNAP_OPERATIONS_PORT', 0),
    metricsPort: int('BACKSNAP_METRICS_PORT', 0),
  };
  if (config.image === '') errors.push('BACKSNAP_IMAGE must not be empty');
  const retention = parsePolicy(config.retention);
  if (!retention.ok) errors.push(`BACKSNAP_RETENTION=${JSON.stringify(config.retention)}: ${retention.message}`);
  if (!/^(\d+(\.\d+)?%|\d+\/\d+)$/.test(config.checkReadDataSubset)) errors.push(`BACKSNAP_CHECK_READ_DATA_SUBSET=${JSON.stringify(config.checkReadDataSubset)} is not a share such as 5% or 1/20`);
  for (const name of ['BACKSNAP_HOOK_TOKEN', 'BACKSNAP_HOOK_TOKEN_PREVIOUS', 'BACKSNAP_HOUSEKEEPING_TOKEN', 'BACKSNAP_RESTIC_PASSWORD']) {
    if (get(name).trim().startsWith('change-me')) errors.push(`${name} still has the placeholder of deploy/credentials.env: set a long random value`);
  }
  if (optional(get('BACKSNAP_HOOK_TOKEN')) === undefined) {
    if (optional(get('BACKSNAP_HOOK_TOKEN_PREVIOUS')) !== undefined) errors.push('BACKSNAP_HOOK_TOKEN_PREVIOUS is set without BACKSNAP_HOOK_TOKEN');
    else if (!bool('BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS')) {
      errors.push('BACKSNAP_HOOK_TOKEN is required: the hook answers carry repository credentials, so only Metacontroller may call them (set the same token in each webhook\'s authorization); BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS=true runs without');
    }
  }
  const fixedPorts = [config.port, config.operationsPort, config.metricsPort].filter((p) => p !== 0);
  if (new Set(fixedPorts).size !== fixedPorts.length) errors.push('BACKSNAP_PORT, BACKSNAP_OPERATIONS_PORT and BACKSNAP_METRICS_PORT must differ');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    errors.push(`BACKSNAP_LOG_LEVEL=${JSON.stringify(config.logLevel)} is not a pino level`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}

const validateBackupSpec = validator<PVCBackupSpec>(PVCBackupSpecSchema, 'spec');

function backupDefaults(get: (name: string) => string, errors: string[]): AutomaticBackupDefaults {
  const defaults: Record<string, unknown> = {};
  const json = (name: string, field: string) => {
    const text = get(name).trim();
    if (text === '') return;
    try {
      defaults[field] = JSON.parse(text);
    } catch {
      errors.push(`${name} is not valid JSON`);
    }
  };
  json('BACKSNAP_BACKUP_NODE_SELECTOR', 'nodeSelector');
  json('BACKSNAP_BACKUP_TOLERATIONS', 'tolerations');
  json('BACKSNAP_BACKUP_LABELS', 'labels');
  json('BACKSNAP_BACKUP_ANNOTATIONS', 'annotations');
  const priority = get('BACKSNAP_BACKUP_PRIORITY_CLASS').trim();
  if (priority !== '') defaults['priorityClassName'] = priority;
  const check = validateBackupSpec({ ...defaults, pvc: 'x' });
  if (!check.ok) errors.push(`automatic backup defaults (BACKSNAP_BACKUP_*): ${check.message}`);
  return defaults as AutomaticBackupDefaults;
}

/** Whether backsnap works in a namespace: the exclude-list wins over the allow-list. */
export function namespaceInScope(config: Pick<Config, 'namespaces'>, namespace: string): boolean {
  const { allow, exclude } = config.namespaces;
  if (exclude.includes(namespace)) return false;
  return allow.length === 0 || allow.includes(namespace);
}
