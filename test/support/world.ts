// A parent and its children as Metacontroller keeps them, for contract tests that play a run
// through many syncs: each answer is applied the way Metacontroller applies it (observed children
// missing from the answer are deleted, new ones created, the status replaced), and every request
// and every create or delete is recorded, so tests can replay stale observations and count side
// effects.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import type { CompositeSyncRequest } from '../../src/metacontroller/types.ts';
import { NOW, syncRequest, testConfig, testServers } from './fixtures.ts';
import { assertCompositeShape, assertSafeChildren, post, type SyncAnswer } from './hooks.ts';

export interface RecordedSync<P, S> {
  request: CompositeSyncRequest<P & KubeObject>;
  answer: SyncAnswer<S>;
  /** What the world held before this sync's answer was applied. */
  storedStatus: S | undefined;
  created: string[];
  deleted: string[];
}

export const childKey = (c: KubeObject): string => `${c.kind}/${c.metadata.name}`;

export class World<P extends KubeObject & { status?: S }, S> {
  now: Date;
  parent: P;
  related: KubeObject[];
  readonly children = new Map<string, KubeObject>();
  readonly history: RecordedSync<P, S>[] = [];
  /** Every child ever created, in order, and every child ever deleted. */
  readonly created: string[] = [];
  readonly deleted: string[] = [];
  readonly url: string;
  readonly childGroups: readonly string[];
  private readonly app: FastifyInstance;
  private counter = 0;

  constructor(url: string, parent: P, childGroups: readonly string[], related: KubeObject[], config: Config = testConfig(), now: Date = NOW) {
    this.url = url;
    this.childGroups = childGroups;
    this.parent = parent;
    this.related = related;
    this.now = now;
    this.app = testServers(config, () => this.now).hooks;
  }

  advance(ms: number): this {
    this.now = new Date(this.now.getTime() + ms);
    return this;
  }

  request(): CompositeSyncRequest<P> {
    return syncRequest(this.parent, [...this.children.values()], this.related, this.childGroups);
  }

  /** Answers a request as it is, without applying the answer. */
  async ask(request: CompositeSyncRequest<P>): Promise<SyncAnswer<S>> {
    const answer = await post<SyncAnswer<S>>(this.app, this.url, request);
    assertCompositeShape(answer);
    assertSafeChildren(answer.children);
    return answer;
  }

  /** One sync on the current state; the answer is applied like Metacontroller applies it. */
  async sync(): Promise<SyncAnswer<S>> {
    const request = this.request();
    const answer = await this.ask(request);
    const storedStatus = this.parent.status;
    const wanted = new Map(answer.children.map((c) => [childKey(c), c]));
    const deleted = [...this.children.keys()].filter((k) => !wanted.has(k));
    const created = [...wanted.keys()].filter((k) => !this.children.has(k));
    for (const key of deleted) this.children.delete(key);
    for (const key of created) {
      const child = wanted.get(key) as KubeObject;
      this.counter += 1;
      const namespace = child.metadata.namespace ?? this.parent.metadata.namespace ?? '';
      this.children.set(key, { ...child, metadata: { ...child.metadata, namespace, uid: `child-${this.counter}`, creationTimestamp: this.now.toISOString().replace(/\.\d{3}Z$/, 'Z') } });
    }
    this.created.push(...created);
    this.deleted.push(...deleted);
    this.parent = { ...this.parent, status: answer.status };
    this.history.push({ request, answer, storedStatus, created, deleted });
    return answer;
  }

  /** Syncs until an answer changes nothing (as Metacontroller would keep doing on events). */
  async settle(max = 5): Promise<SyncAnswer<S>> {
    let answer = await this.sync();
    for (let i = 1; i < max; i += 1) {
      const last = this.history.at(-1);
      if (last !== undefined && last.created.length === 0 && last.deleted.length === 0 && JSON.stringify(last.storedStatus) === JSON.stringify(answer.status)) break;
      answer = await this.sync();
    }
    return answer;
  }

  child<T extends KubeObject>(kind: T['kind']): T {
    const found = [...this.children.values()].find((c) => c.kind === kind);
    if (found === undefined) throw new Error(`no ${kind} among ${[...this.children.keys()].join(', ')}`);
    return found as T;
  }

  /** Changes an observed child, as its controller would (a snapshot becoming ready, a Job completing). */
  update<T extends KubeObject>(kind: T['kind'], change: (child: T) => T): this {
    const current = this.child<T>(kind);
    this.children.set(childKey(current), change(current));
    return this;
  }
}
