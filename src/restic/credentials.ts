// What a restic Job gets to open a repository, in a Secret next to it (envFrom), never as literal
// env. By default every repository shares BACKSNAP_RESTIC_PASSWORD (backsnap's model). With
// BACKSNAP_PER_NAMESPACE_PASSWORDS each namespace's repositories have a password of their own,
// derived from the shared one (HMAC-SHA256), so the Secret of a Job in namespace A does not open
// namespace B's repositories; the derivation is deterministic, so nothing has to be stored.
import { createHmac } from 'node:crypto';
import { shortHash } from '../names.ts';
import type { Config } from '../config.ts';
import type { Labels, Secret } from '../kube/types.ts';

export interface RepositoryRef {
  namespace: string;
  pvc: string;
}

/** backsnap's layout: one repository per PVC at `<base>/<namespace>/<pvc>`. */
export function repositoryOf(config: Pick<Config, 'repositoryBase'>, namespace: string, pvc: string): string {
  return `${config.repositoryBase}/${namespace}/${pvc}`;
}

/** The value of REPOSITORY_LABEL on the Jobs that open a repository (a label value fits 63 characters). */
export function repositoryLabel(ref: RepositoryRef): string {
  return shortHash(`${ref.namespace}/${ref.pvc}`, 32);
}

/** The password of a namespace's repositories (a pure function of the shared password). */
export function namespacePassword(sharedPassword: string, namespace: string): string {
  return createHmac('sha256', sharedPassword).update(`backsnap-ts/restic-password/v1/${namespace}`).digest('base64url');
}

/** restic's environment for one repository. */
export function repositoryEnvironment(config: Pick<Config, 'repositoryBase' | 'repositoryEnv' | 'perNamespacePasswords'>, ref: RepositoryRef): Record<string, string> {
  const env: Record<string, string> = { ...config.repositoryEnv, RESTIC_REPOSITORY: repositoryOf(config, ref.namespace, ref.pvc) };
  if (config.perNamespacePasswords) env['RESTIC_PASSWORD'] = namespacePassword(config.repositoryEnv['RESTIC_PASSWORD'] ?? '', ref.namespace);
  return env;
}

/**
 * The Secret of one run. A cross-namespace restore gets the *source* namespace's credentials:
 * the source namespace consented to it (backsnap.skyb.it/allow-restore-to).
 */
export function credentialsSecret(name: string, namespace: string, labels: Labels, annotations: Labels, repository: RepositoryRef, config: Config): Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels, annotations }, type: 'Opaque', data: encodedEnvironment(config, repository) };
}

/** Encoded environments by configuration and repository: every sync of a running backup rebuilds its Secret. */
const encoded = new WeakMap<Config, Map<string, Readonly<Record<string, string>>>>();
/** Enough for every repository of a large cluster; past it the cache starts over. */
const MAX_ENCODED = 10_000;

function encodedEnvironment(config: Config, repository: RepositoryRef): Readonly<Record<string, string>> {
  let byRepository = encoded.get(config);
  if (byRepository === undefined) encoded.set(config, (byRepository = new Map()));
  const key = `${repository.namespace}/${repository.pvc}`;
  const known = byRepository.get(key);
  if (known !== undefined) return known;
  const values = repositoryEnvironment(config, repository);
  const data: Record<string, string> = {};
  for (const name of Object.keys(values).sort()) data[name] = Buffer.from(values[name] ?? '', 'utf8').toString('base64');
  if (byRepository.size >= MAX_ENCODED) byRepository.clear();
  byRepository.set(key, Object.freeze(data));
  return data;
}
