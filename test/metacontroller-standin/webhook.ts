// Calling one hook the way pkg/hooks/webhook.go does: POST JSON, only HTTP 200 succeeds, a 429
// requeues after Retry-After, the whole exchange is bounded by the webhook timeout (default 10 s).
import { isPlainObject } from './kube-types.ts';

export interface WebhookSpec {
  url?: string;
  timeout?: string;
  path?: string;
  service?: { name?: string; namespace?: string; port?: number; protocol?: string };
}

export type HookResult =
  | { kind: 'ok'; body: unknown }
  | { kind: 'throttled'; afterSeconds: number }
  | { kind: 'error'; message: string };

const DEFAULT_TIMEOUT_MS = 10_000;

/** `url` wins; otherwise protocol://name.namespace:port/path (resolvable only inside a cluster). */
export function webhookUrl(webhook: WebhookSpec): string {
  if (webhook.url !== undefined) return webhook.url;
  if (webhook.service === undefined || webhook.path === undefined) {
    throw new Error("invalid webhook config: must specify either a full 'url', or both 'service' and 'path'");
  }
  const { name, namespace, port = 80, protocol = 'http' } = webhook.service;
  if (!name || !namespace) throw new Error("invalid webhook config: 'service' must specify both 'name' and 'namespace'");
  return `${protocol}://${name}.${namespace}:${port}${webhook.path}`;
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; throws on malformed input. */
export function parseGoDuration(text: string): number {
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (text === '0') return 0;
  if (match === null) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNITS_MS[part[2] ?? ''] ?? 0);
  }
  return match[1] === '-' ? -total : total;
}

/** Zero, negative or unparsable timeouts fall back to 10 s, as webhookTimeout does. */
export function webhookTimeoutMs(webhook: WebhookSpec): number {
  if (webhook.timeout === undefined) return DEFAULT_TIMEOUT_MS;
  try {
    const ms = parseGoDuration(webhook.timeout);
    return ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
  } catch {
    return DEFAULT_TIMEOUT_MS;
  }
}

/** Retry-After is seconds or an HTTP date; anything else means 0 (requeue at once), like Atoi's zero value. */
export function parseRetryAfter(header: string | null, now: number): number {
  if (header === null) return 0;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date) || !/[a-z]/i.test(trimmed)) return 0;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export async function callWebhook(url: string, timeoutMs: number, payload: unknown): Promise<HookResult> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 429) {
      await response.body?.cancel();
      return { kind: 'throttled', afterSeconds: parseRetryAfter(response.headers.get('retry-after'), Date.now()) };
    }
    text = await response.text();
  } catch (error) {
    const message = error instanceof Error && error.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : String(error);
    return { kind: 'error', message: `http error: ${message}` };
  }
  if (response.status !== 200) return { kind: 'error', message: `unsupported status code: ${response.status} body: ${text.slice(0, 500)}` };
  try {
    return { kind: 'ok', body: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'error', message: `can't unmarshal webhookResponse: ${String(error)}` };
  }
}

/** The webhook of a hook spec ({version, webhook}), or undefined when the hook is not configured. */
export function webhookOf(hook: unknown): WebhookSpec | undefined {
  if (!isPlainObject(hook) || !isPlainObject(hook['webhook'])) return undefined;
  return hook['webhook'] as WebhookSpec;
}
