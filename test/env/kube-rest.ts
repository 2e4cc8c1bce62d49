// A small JSON client for the Kubernetes REST API: the test environment needs subresources
// (status, binding), merge patches and raw watches, which are simplest to spell as plain paths.
// The service's own kubeconfig reading supplies the server, token and TLS options.
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { kubeconfigAccess, type Kubeconfig } from '../../src/kube/access.ts';

export class KubeError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(method: string, path: string, status: number, reason: string, message: string) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof KubeError && error.status === 404;
export const isConflict = (error: unknown): boolean => error instanceof KubeError && error.status === 409;

export interface ListResult<T> {
  items: T[];
  metadata: { resourceVersion?: string };
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface Watching {
  stop(): void;
}

export type PatchType = 'merge' | 'strategic' | 'json';
const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export class KubeRest {
  readonly server: URL;
  private readonly base: RequestOptions;

  private constructor(server: URL, base: RequestOptions) {
    this.server = server;
    this.base = base;
  }

  static async fromKubeconfig(path: string): Promise<KubeRest> {
    const access = kubeconfigAccess(parse(readFileSync(path, 'utf8')) as Kubeconfig, dirname(path));
    const authorization = access.authorization();
    const options: RequestOptions = { ...access.tls, headers: authorization === undefined ? {} : { authorization } };
    return Promise.resolve(new KubeRest(new URL(access.server), options));
  }

  private open(method: string, path: string, body: string | undefined, contentType: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.server);
      const req = request(
        url,
        {
          ...this.base,
          method,
          headers: {
            ...this.base.headers,
            accept: 'application/json',
            // Explicit length: Node sends a DELETE body neither chunked nor with a length otherwise.
            ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }),
          },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Sends a request; JSON responses are parsed, errors become KubeError. */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.open(method, path, payload, contentType);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    let parsed: unknown = text;
    if ((res.headers['content-type'] ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    if (status >= 400) {
      const detail = parsed as { reason?: string; message?: string };
      throw new KubeError(method, path, status, detail.reason ?? '', detail.message ?? text);
    }
    return parsed as T;
  }

  /** The object, or undefined if it does not exist. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list<T>(path: string): Promise<ListResult<T>> {
    return this.request<ListResult<T>>('GET', path);
  }

  create<T>(path: string, object: unknown): Promise<T> {
    return this.request<T>('POST', path, object);
  }

  /** Creates the object unless one of that name exists; returns whether it created it. */
  async createIfAbsent(path: string, object: unknown): Promise<boolean> {
    try {
      await this.create(path, object);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  patch<T>(path: string, patch: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.request<T>('PATCH', path, patch, patchContentTypes[type]);
  }

  /** Deletes the object; a missing object is not an error. */
  async delete(path: string, options?: { gracePeriodSeconds?: number; propagationPolicy?: string }): Promise<void> {
    try {
      await this.request('DELETE', path, options === undefined ? undefined : { apiVersion: 'v1', kind: 'DeleteOptions', ...options });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /**
   * Watches a collection: events for existing objects first (the API sends them for a watch
   * without a resourceVersion), then every change. When the server ends the stream it resumes from
   * the last resourceVersion seen, so no event is missed; if that is too old (410), it starts over.
   */
  watch<T>(path: string, onEvent: (event: WatchEvent<T>) => void, onError: (error: Error) => void): Watching {
    let stopped = false;
    let current: IncomingMessage | undefined;
    let resourceVersion: string | undefined;
    const separator = path.includes('?') ? '&' : '?';
    const loop = async (): Promise<void> => {
      while (!stopped) {
        try {
          const resume = resourceVersion === undefined ? '' : `&resourceVersion=${resourceVersion}&allowWatchBookmarks=true`;
          const res = await this.open('GET', `${path}${separator}watch=true&timeoutSeconds=300${resume}`, undefined, '');
          current = res;
          if (stopped) {
            res.destroy();
            return;
          }
          if ((res.statusCode ?? 0) >= 400) {
            res.resume();
            if (res.statusCode === 410) resourceVersion = undefined;
            throw new Error(`watch ${path}: HTTP ${res.statusCode}`);
          }
          let buffered = '';
          for await (const chunk of res) {
            buffered += (chunk as Buffer).toString('utf8');
            let newline: number;
            while ((newline = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              if (line.trim() === '') continue;
              const event = JSON.parse(line) as WatchEvent<T> & { object: { code?: number; metadata?: { resourceVersion?: string } } };
              if (event.type === 'ERROR') {
                if (event.object.code === 410) resourceVersion = undefined;
                continue;
              }
              resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
              if (event.type !== 'BOOKMARK') onEvent(event);
            }
          }
        } catch (error) {
          if (stopped) return;
          onError(error instanceof Error ? error : new Error(String(error)));
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    };
    void loop();
    return {
      stop: () => {
        stopped = true;
        current?.destroy();
      },
    };
  }
}
