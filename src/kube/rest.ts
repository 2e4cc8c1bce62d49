// A small client for the few API calls the service makes (paged lists, watches, create, delete,
// merge patch), on node:https with one keep-alive agent. It replaces @kubernetes/client-node,
// whose generated models and auth plugins cost the service about 55 MB of resident memory at
// start; objects stay in the API's JSON form, as hooks and plans read them.
import http from 'node:http';
import https from 'node:https';
import type { KubeAccess } from './access.ts';

/** A non-2xx answer of the API server, with its Status reason. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface KubeClient {
  request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options?: { query?: Record<string, string>; body?: unknown; contentType?: string }): Promise<T>;
  /** Streams a watch until the server ends it (resolves) or it fails (rejects); `signal` aborts it. */
  watch(path: string, query: Record<string, string>, onEvent: (type: WatchEventType, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 30_000;

function withQuery(path: string, query: Record<string, string> | undefined): string {
  const search = new URLSearchParams(query ?? {}).toString();
  return search === '' ? path : `${path}?${search}`;
}

function apiError(status: number, text: string): KubeApiError {
  try {
    const body = JSON.parse(text) as { reason?: string; message?: string };
    return new KubeApiError(status, body.reason ?? '', body.message ?? text);
  } catch {
    return new KubeApiError(status, '', text.slice(0, 500));
  }
}

export function kubeClient(access: KubeAccess): KubeClient {
  const url = new URL(access.server);
  const secure = url.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, ...access.tls }) : new http.Agent({ keepAlive: true });
  const send = (method: string, path: string, headers: Record<string, string>, signal?: AbortSignal) => {
    const authorization = access.authorization();
    const options = {
      method, agent, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname.replace(/\/$/, '')}${path}`,
      headers: { accept: 'application/json', ...headers, ...(authorization === undefined ? {} : { authorization }) },
      ...(signal === undefined ? {} : { signal }),
    };
    return secure ? https.request(options) : http.request(options);
  };

  return {
    request: <T>(method: string, path: string, options: { query?: Record<string, string>; body?: unknown; contentType?: string } = {}) =>
      new Promise<T>((resolve, reject) => {
        const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
        // An explicit length: Node sends a DELETE body neither chunked nor with a length otherwise.
        const headers = payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
        const req = send(method, withQuery(path, options.query), headers);
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) return reject(apiError(status, text));
            try {
              resolve((text === '' ? {} : JSON.parse(text)) as T);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        });
        req.end(payload);
      }),

    watch: (path, query, onEvent, signal) =>
      new Promise<void>((resolve, reject) => {
        const req = send('GET', withQuery(path, { ...query, watch: 'true' }), {}, signal);
        // A connection that died without closing would otherwise hang the watch for good; the
        // server ends a watch after its timeoutSeconds and sends bookmarks in between.
        const idleMs = (Number(query['timeoutSeconds'] ?? '600') + 60) * 1000;
        req.setTimeout(idleMs, () => req.destroy(new Error(`watch ${path}: silent for ${idleMs / 1000} s`)));
        req.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => reject(apiError(status, text)));
            return;
          }
          // One JSON event per line; a chunk may end in the middle of one.
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            pending += chunk;
            let newline = pending.indexOf('\n');
            while (newline >= 0) {
              const line = pending.slice(0, newline).trim();
              pending = pending.slice(newline + 1);
              if (line !== '') {
                let event: { type: WatchEventType; object: unknown };
                try {
                  event = JSON.parse(line) as typeof event;
                } catch (error) {
                  req.destroy();
                  return reject(error instanceof Error ? error : new Error(String(error)));
                }
                onEvent(event.type, event.object);
              }
              newline = pending.indexOf('\n');
            }
          });
          res.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
          res.on('end', () => resolve());
        });
        req.end();
      }),
  };
}

/** Every item of a collection, in pages, with the list's resourceVersion to watch from. */
export async function listAll<T>(client: KubeClient, path: string, labelSelector: string | undefined, pageSize = 500): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let token = '';
  let resourceVersion = '';
  do {
    const query: Record<string, string> = { limit: String(pageSize), ...(labelSelector === undefined ? {} : { labelSelector }), ...(token === '' ? {} : { continue: token }) };
    const page = await client.request<ListPage<T>>('GET', path, { query });
    items.push(...page.items);
    token = page.metadata?.continue ?? '';
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
  } while (token !== '');
  return { items, resourceVersion };
}
