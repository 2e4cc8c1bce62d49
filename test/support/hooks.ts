// Calls hook routes through app.inject and checks the invariants every sync answer must keep.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { KubeObject } from '../../src/kube/types.ts';
import type { CompositeSyncRequest } from '../../src/metacontroller/types.ts';
import { groups, HOOK_AUTH, SECRET_VALUES } from './fixtures.ts';

export interface SyncAnswer<Status> {
  status: Status;
  children: KubeObject[];
  resyncAfterSeconds?: number;
}

export async function post<T>(app: FastifyInstance, url: string, body: unknown): Promise<T> {
  const reply = await app.inject({ method: 'POST', url, payload: body as object, headers: HOOK_AUTH });
  assert.equal(reply.statusCode, 200, `${url} answered ${reply.statusCode}: ${reply.body}`);
  return reply.json<T>();
}

/** Metacontroller's strict v2 parsing: only these fields may appear in a composite answer. */
export function assertCompositeShape(answer: object): void {
  for (const key of Object.keys(answer)) assert.ok(['status', 'children', 'resyncAfterSeconds', 'finalized'].includes(key), `unexpected field ${key}`);
  assert.ok(Array.isArray((answer as { children?: unknown }).children), 'children must be a list');
}

/** Names fit label values, and no credential appears outside a Secret. */
export function assertSafeChildren(children: readonly KubeObject[]): void {
  for (const child of children) {
    assert.ok(child.metadata.name.length <= 63, `${child.kind} name ${child.metadata.name} is longer than 63`);
    if (child.kind === 'Secret') continue;
    const text = JSON.stringify(child);
    for (const secret of SECRET_VALUES) assert.ok(!text.includes(secret), `${child.kind} ${child.metadata.name} contains a credential`);
  }
}

/**
 * Feeds the answer back as the next observation (children as observed, status as stored) and
 * expects the same answer: the hook is idempotent and deterministic.
 */
export async function assertFixedPoint<P extends KubeObject & { status?: unknown }, S>(
  app: FastifyInstance,
  url: string,
  request: CompositeSyncRequest<P>,
  answer: SyncAnswer<S>,
): Promise<void> {
  const observed = groups(answer.children.map((c) => ({ ...c, metadata: { ...c.metadata, namespace: c.metadata.namespace ?? request.parent.metadata.namespace ?? '' } })));
  const again = await post<SyncAnswer<S>>(app, url, {
    ...request,
    parent: { ...request.parent, status: answer.status },
    children: { ...Object.fromEntries(Object.keys(request.children).map((k) => [k, {}])), ...observed },
  });
  assert.deepEqual(again, answer);
}

/** Observed children that the answer leaves out (Metacontroller would delete them). */
export function droppedChildren(request: CompositeSyncRequest<KubeObject>, answer: SyncAnswer<unknown>): string[] {
  const wanted = new Set(answer.children.map((c) => `${c.kind}/${c.metadata.name}`));
  return Object.values(request.children)
    .flatMap((group) => Object.values(group))
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .filter((key) => !wanted.has(key))
    .sort();
}
