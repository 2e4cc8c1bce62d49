// The stand-in's own small Kubernetes REST client: Metacontroller works with any resource by its
// plural name, including subresources and conditional deletes, which plain paths express best.
// @kubernetes/client-node only supplies the kubeconfig handling (server, credentials, TLS).
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { isPlainObject, type KubeObject, type ResourceInfo } from './kube-types.ts';

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(method: string, path: string, status: number, reason: string, message: string) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.status = status;
    this.reason = reason;
  }
}

export const isStatus = (error: unknown, status: number): boolean => error instanceof KubeApiError && error.status === status;

const REQUEST_TIMEOUT_MS = 30_000;

export class KubeApi {
  private readonly config: KubeConfig;
  private readonly server: URL;
  private agent: http.Agent | undefined;

  constructor(kubeconfigPath: string) {
    this.config = new KubeConfig();
    this.config.loadFromFile(kubeconfigPath);
    const cluster = this.config.getCurrentCluster();
    if (cluster === null) throw new Error(`${kubeconfigPath}: no current cluster`);
    this.server = new URL(cluster.server);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.server);
    const options: https.RequestOptions = {};
    // Re-applied per request so that expiring credentials (exec plugins, token files) stay valid.
    await this.config.applyToHTTPSOptions(options);
    // client-node's agent does not keep connections alive; polling would open one per request.
    this.agent ??= url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ca: options.ca, cert: options.cert, key: options.key, ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }) })
      : new http.Agent({ keepAlive: true });
    options.agent = this.agent;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { ...(options.headers as http.OutgoingHttpHeaders | undefined), accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      // Node sends DELETE bodies without chunked encoding: without a length the server would not
      // read the body, and its bytes would corrupt the next request on the kept-alive connection.
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, { ...options, method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
    let parsed: unknown = text;
    try {
      if (text !== '') parsed = JSON.parse(text);
    } catch {
      // Not JSON (e.g. a proxy error page): keep the text for the error message.
    }
    if (status < 200 || status >= 300) {
      const detail = isPlainObject(parsed) ? parsed : {};
      throw new KubeApiError(method, path, status, String(detail['reason'] ?? ''), String(detail['message'] ?? text));
    }
    return parsed as T;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/** /api/v1 or /apis/group/version, then the namespace, resource, name and subresource as given. */
export function resourcePath(res: Pick<ResourceInfo, 'apiVersion' | 'resource' | 'namespaced'>, namespace?: string, name?: string, subresource?: string): string {
  let path = res.apiVersion.includes('/') ? `/apis/${res.apiVersion}` : `/api/${res.apiVersion}`;
  if (res.namespaced && namespace !== undefined && namespace !== '') path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${res.resource}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Object operations on resources resolved by discovery. */
export class Cluster {
  readonly api: KubeApi;

  constructor(api: KubeApi) {
    this.api = api;
  }

  /**
   * Typed list responses omit apiVersion and kind on their items; the stand-in puts them back,
   * as Metacontroller's unstructured informers do, because hooks and group keys rely on them.
   */
  async list(res: ResourceInfo, namespace?: string): Promise<KubeObject[]> {
    const list = await this.api.request<{ items?: KubeObject[] }>('GET', resourcePath(res, namespace));
    return (list.items ?? []).map((item) => ({ ...item, apiVersion: res.apiVersion, kind: res.kind }));
  }

  async get(res: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      const obj = await this.api.request<KubeObject>('GET', resourcePath(res, namespace, name));
      return { ...obj, apiVersion: res.apiVersion, kind: res.kind };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  create(res: ResourceInfo, obj: KubeObject): Promise<KubeObject> {
    return this.api.request('POST', resourcePath(res, obj.metadata?.namespace), obj);
  }

  mergePatch(res: ResourceInfo, namespace: string, name: string, patch: unknown, subresource?: string): Promise<KubeObject> {
    return this.api.request('PATCH', resourcePath(res, namespace, name, subresource), patch, 'application/merge-patch+json');
  }

  replaceStatus(res: ResourceInfo, obj: KubeObject): Promise<KubeObject> {
    return this.api.request('PUT', resourcePath(res, obj.metadata?.namespace, obj.metadata?.name ?? '', 'status'), obj);
  }

  /** Background propagation with a UID precondition, as deleteChildren sends it. */
  async delete(res: ResourceInfo, obj: KubeObject): Promise<void> {
    await this.api.request('DELETE', resourcePath(res, obj.metadata?.namespace, obj.metadata?.name ?? ''), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      preconditions: { uid: obj.metadata?.uid },
    });
  }
}
