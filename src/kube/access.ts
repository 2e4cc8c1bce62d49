// Where the API server is and how to authenticate: the Pod's service account in a cluster, a
// kubeconfig elsewhere. Only what the operator needs: a bearer token (re-read from its file, so a
// rotated service-account token is picked up) or a client certificate, and the server's CA. A
// kubeconfig that authenticates through an exec plugin or an auth provider is refused with a
// message, instead of failing later with a 401.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

export interface KubeAccess {
  /** e.g. `https://10.0.0.1:443`, without a trailing slash. */
  server: string;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  /** The Authorization header's value, read when a request is made; undefined with client certificates. */
  authorization(): string | undefined;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// client-go re-reads a token file once a minute; the kubelet rotates it well before it expires.
const TOKEN_REREAD_MS = 60_000;

function tokenFromFile(path: string, now: () => number = Date.now): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (now() - readAt >= TOKEN_REREAD_MS) {
      token = readFileSync(path, 'utf8').trim();
      readAt = now();
    }
    return `Bearer ${token}`;
  };
}

/** The service account's access when running in a Pod, else undefined. */
export function inClusterAccess(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): KubeAccess | undefined {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (host === undefined || host === '') return undefined;
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch {
    return undefined;
  }
  const authorization = tokenFromFile(join(dir, 'token'));
  return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, tls: { ca, rejectUnauthorized: true }, authorization };
}

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
  username?: string;
}

export interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: KubeconfigCluster }[];
  users?: { name: string; user?: KubeconfigUser }[];
}

/** The access a parsed kubeconfig describes for its current context; `base` resolves relative file names. */
export function kubeconfigAccess(config: Kubeconfig, base: string): KubeAccess {
  const contextName = config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (context === undefined) throw new Error(`kubeconfig: current-context ${JSON.stringify(contextName ?? '')} is not among its contexts`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (cluster?.server === undefined) throw new Error(`kubeconfig: cluster ${JSON.stringify(context.cluster ?? '')} has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || user.username !== undefined) {
    throw new Error(`kubeconfig: user ${JSON.stringify(context.user ?? '')} authenticates with an exec plugin, an auth provider or a password, which backsnap-ts does not support; use a token or a client certificate`);
  }
  const file = (path: string) => readFileSync(isAbsolute(path) ? path : join(base, path));
  const material = (data: string | undefined, path: string | undefined) => (data !== undefined ? Buffer.from(data, 'base64') : path !== undefined ? file(path) : undefined);
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const tls = { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true };
  const token = user.token;
  const tokenFile = user.tokenFile;
  const authorization = token !== undefined ? () => `Bearer ${token}` : tokenFile !== undefined ? tokenFromFile(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile)) : () => undefined;
  return { server: cluster.server.replace(/\/+$/, ''), tls, authorization };
}

/** In a Pod: its service account; elsewhere: the first file of KUBECONFIG, or ~/.kube/config. */
export async function defaultAccess(env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  const inCluster = inClusterAccess(env);
  if (inCluster !== undefined) return inCluster;
  const path = (env['KUBECONFIG'] ?? '').split(':').find((p) => p !== '') ?? join(homedir(), '.kube', 'config');
  // Loaded only here: a Pod never parses YAML.
  const { parse } = await import('yaml');
  return kubeconfigAccess(parse(readFileSync(path, 'utf8')) as Kubeconfig, dirname(path));
}
