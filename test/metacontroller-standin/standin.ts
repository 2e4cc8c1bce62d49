// The stand-in driver: polls CompositeControllers and DecoratorControllers and the objects they
// involve, and syncs a parent (or decorator target) when what its sync would observe has changed
// or one of its timers is due. Polling replaces Metacontroller's informers; the hook semantics are
// in composite-sync.ts and decorator-sync.ts.
import { syncCompositeParent, type CompositeRuntime } from './composite-sync.ts';
import { parseCompositeController, parseDecoratorController, type ControllerConfig } from './controller-spec.ts';
import { decoratorSelects, syncDecoratorTarget, type DecoratorRuntime } from './decorator-sync.ts';
import { Discovery } from './discovery.ts';
import { Cluster, KubeApi } from './kube-api.ts';
import { namespaceOf, nameOf, type KubeObject, type ResourceInfo } from './kube-types.ts';
import { matchesSelector } from './label-selector.ts';
import { buildObjectMap } from './object-map.ts';
import { decoratorAttachments, fingerprint, ownedChildren } from './observe.ts';
import { beginSync, finishSync, isDue, newParentState, requeueAt, type ParentState } from './parent-schedule.ts';
import { CustomizeCache, collectRelated, errorText, resolveRules, type SyncContext, type SyncOutcome } from './sync-common.ts';

export interface StandinOptions {
  kubeconfigPath: string;
  log?: (line: string) => void;
  /** How often the API server is polled for changes; default 250 ms. */
  pollIntervalMs?: number;
  /** Parents synced at once per controller (Metacontroller's --workers); default 5. */
  workers?: number;
}

export interface Standin {
  stop(): Promise<void>;
  /** Sync passes started so far (each calls the sync hook unless it fails before). */
  syncCount(): number;
}

const GROUP_VERSION = 'metacontroller.k8s.io/v1alpha1';

interface Entry {
  id: string;
  specJson: string;
  config: ControllerConfig | undefined;
  runtime: CompositeRuntime | DecoratorRuntime | undefined;
  parents: Map<string, ParentState>;
  inFlight: number;
  nextPeriodicResync: number;
  lastProblem: string | undefined;
}

/** One tick's view of the cluster: each resource listed once (all namespaces), on first use. */
class Snapshot {
  private readonly cluster: Cluster;
  private readonly lists = new Map<string, Promise<KubeObject[]>>();

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  list = async (res: ResourceInfo, namespace?: string): Promise<KubeObject[]> => {
    const key = `${res.apiVersion}/${res.resource}`;
    let all = this.lists.get(key);
    if (all === undefined) {
      all = this.cluster.list(res);
      this.lists.set(key, all);
    }
    const objects = await all;
    return namespace === undefined ? objects : objects.filter((obj) => namespaceOf(obj) === namespace);
  };
}

export async function startMetacontrollerStandin(opts: StandinOptions): Promise<Standin> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const pollIntervalMs = opts.pollIntervalMs ?? 250;
  const workers = opts.workers ?? 5;
  const api = new KubeApi(opts.kubeconfigPath);
  const ctx: SyncContext = { cluster: new Cluster(api), discovery: new Discovery(api) };
  const entries = new Map<string, Entry>();
  const busy = new Set<string>();
  const running = new Set<Promise<void>>();
  let syncs = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  let lastLoopProblem: string | undefined;

  const problem = (entry: Entry, message: string | undefined): void => {
    if (message !== undefined && message !== entry.lastProblem) log(`[metacontroller-standin] ${entry.id}: ${message}`);
    entry.lastProblem = message;
  };

  async function refreshControllers(): Promise<void> {
    const found = new Map<string, KubeObject>();
    for (const [kind, resource] of [['CompositeController', 'compositecontrollers'], ['DecoratorController', 'decoratorcontrollers']] as const) {
      let res: ResourceInfo;
      try {
        res = await ctx.discovery.resolve(GROUP_VERSION, resource);
      } catch {
        continue; // CRD not installed (yet): no controllers of that kind
      }
      for (const obj of await ctx.cluster.list(res)) found.set(`${kind}/${nameOf(obj)}`, obj);
    }
    for (const id of entries.keys()) if (!found.has(id)) entries.delete(id);
    for (const [id, obj] of found) {
      const specJson = JSON.stringify(obj['spec'] ?? null);
      if (entries.get(id)?.specJson === specJson) continue;
      // A new or changed controller starts from scratch, as Metacontroller restarts it: every parent gets synced.
      const entry: Entry = { id, specJson, config: undefined, runtime: undefined, parents: new Map(), inFlight: 0, nextPeriodicResync: 0, lastProblem: undefined };
      entries.set(id, entry);
      try {
        entry.config = id.startsWith('Composite') ? parseCompositeController(obj) : parseDecoratorController(obj);
        for (const warning of entry.config.warnings) log(`[metacontroller-standin] ${id}: warning: ${warning}`);
        if (entry.config.resyncPeriodSeconds > 0) entry.nextPeriodicResync = Date.now() + entry.config.resyncPeriodSeconds * 1000;
      } catch (error) {
        problem(entry, `invalid, not run: ${errorText(error)}`);
      }
    }
  }

  async function resolveRuntime(config: ControllerConfig): Promise<CompositeRuntime | DecoratorRuntime> {
    if (config.type === 'composite') {
      const parent = await ctx.discovery.resolve(config.parent.apiVersion, config.parent.resource);
      if (!parent.hasStatus) throw new Error(`parent resource ${config.parent.resource} in ${config.parent.apiVersion} has no status subresource: controller ignored`);
      return { config, parent, children: await resolveRules(ctx.discovery, config.children), customizeCache: new CustomizeCache() };
    }
    return {
      config,
      targets: await Promise.all(config.resources.map((r) => ctx.discovery.resolve(r.apiVersion, r.resource))),
      attachments: await resolveRules(ctx.discovery, config.attachments),
      customizeCache: new CustomizeCache(),
    };
  }

  function describeOutcome(outcome: SyncOutcome): string {
    switch (outcome.result) {
      case 'gone':
        return 'gone';
      case 'ignored':
        return 'ignored (selector does not match)';
      case 'synced': {
        const c = outcome.counts;
        const base = `synced creates=${c.creates} deletes=${c.deletes} updates=${c.updates}${outcome.statusWritten ? ' status=written' : ''}`;
        return outcome.error === undefined ? base : `${base} with errors: ${outcome.error}`;
      }
      case 'failed':
        return `sync error (nothing changed): ${outcome.error}`;
      case 'throttled':
        return `throttled (429)`;
    }
  }

  function dispatch(entry: Entry, key: string, state: ParentState, fp: string, run: () => Promise<SyncOutcome>): void {
    const busyKey = `${entry.id}|${key}`;
    beginSync(state, Date.now());
    entry.inFlight++;
    busy.add(busyKey);
    syncs++;
    const done = run()
      .catch((error: unknown): SyncOutcome => ({ result: 'failed', error: errorText(error) }))
      .then((outcome) => {
        const requeue = finishSync(state, outcome, fp, Date.now());
        if (outcome.result === 'gone' && entry.parents.get(key) === state) entry.parents.delete(key);
        log(`[metacontroller-standin] ${entry.id} ${key}: ${describeOutcome(outcome)}${requeue === '' ? '' : `; ${requeue}`}`);
      })
      .finally(() => {
        entry.inFlight--;
        busy.delete(busyKey);
        running.delete(done);
      });
    running.add(done);
  }

  /** Considers one parent or target; `observe` computes what its sync would see, from the snapshot. */
  async function consider(entry: Entry, key: string, seen: Set<string>, tickStartedAt: number, observe: (state: ParentState) => Promise<string>, run: () => Promise<SyncOutcome>): Promise<void> {
    seen.add(key);
    let state = entry.parents.get(key);
    if (state === undefined) {
      state = newParentState();
      entry.parents.set(key, state);
    }
    if (state.syncing || entry.inFlight >= workers || busy.has(`${entry.id}|${key}`)) return;
    let fp: string;
    try {
      fp = await observe(state);
    } catch (error) {
      fp = `unobservable: ${errorText(error)}`; // stable, so only timers retry it
    }
    if (isDue(state, fp, Date.now(), tickStartedAt)) dispatch(entry, key, state, fp, run);
  }

  async function evaluate(entry: Entry, snapshot: Snapshot, tickStartedAt: number): Promise<void> {
    const rt = entry.runtime;
    if (rt === undefined) return;
    const now = Date.now();
    if (entry.nextPeriodicResync > 0 && now >= entry.nextPeriodicResync) {
      for (const state of entry.parents.values()) requeueAt(state, now);
      entry.nextPeriodicResync = now + rt.config.resyncPeriodSeconds * 1000;
    }
    const seen = new Set<string>();
    if (rt.config.type === 'composite') {
      const crt = rt as CompositeRuntime;
      const childLists = await Promise.all(crt.children.map((res) => snapshot.list(res)));
      const groups = crt.children.map((res) => ({ kind: res.kind, apiVersion: res.apiVersion }));
      for (const parent of await snapshot.list(crt.parent)) {
        if (!matchesSelector(crt.config.parent.labelSelector, parent.metadata?.labels)) continue;
        const namespace = namespaceOf(parent);
        const name = nameOf(parent);
        await consider(
          entry,
          namespace === '' ? name : `${namespace}/${name}`,
          seen,
          tickStartedAt,
          async (state) => {
            const observed = buildObjectMap(groups, childLists.flatMap((objects) => ownedChildren(objects, parent)));
            return fingerprint(parent, observed, await collectRelated(ctx.discovery, snapshot.list, state.relatedRules));
          },
          () => syncCompositeParent(ctx, crt, namespace, name),
        );
      }
    } else {
      const drt = rt as DecoratorRuntime;
      const attachmentLists = await Promise.all(drt.attachments.map((res) => snapshot.list(res)));
      const groups = drt.attachments.map((res) => ({ kind: res.kind, apiVersion: res.apiVersion }));
      for (const [index, targetRes] of drt.targets.entries()) {
        const rule = drt.config.resources[index];
        if (rule === undefined) continue;
        for (const target of await snapshot.list(targetRes)) {
          if (!decoratorSelects(rule, target)) continue;
          const namespace = namespaceOf(target);
          const name = nameOf(target);
          const key = `${targetRes.kind}.${targetRes.apiVersion} ${namespace === '' ? name : `${namespace}/${name}`}`;
          if (seen.has(key)) continue; // selected by an earlier rule already
          await consider(
            entry,
            key,
            seen,
            tickStartedAt,
            async (state) => {
              const observed = buildObjectMap(groups, attachmentLists.flatMap((objects) => decoratorAttachments(objects, target, drt.config.name)));
              return fingerprint(target, observed, await collectRelated(ctx.discovery, snapshot.list, state.relatedRules));
            },
            () => syncDecoratorTarget(ctx, drt, index, namespace, name),
          );
        }
      }
    }
    // Parents that are gone are forgotten with their timers; their children are the garbage collector's.
    for (const [key, state] of entry.parents) if (!seen.has(key) && !state.syncing) entry.parents.delete(key);
  }

  async function tick(): Promise<void> {
    const tickStartedAt = Date.now();
    await refreshControllers();
    const snapshot = new Snapshot(ctx.cluster);
    for (const entry of entries.values()) {
      if (entry.config === undefined) continue;
      try {
        entry.runtime ??= await resolveRuntime(entry.config);
        await evaluate(entry, snapshot, tickStartedAt);
        problem(entry, undefined);
      } catch (error) {
        problem(entry, `not running: ${errorText(error)}`);
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await tick();
        lastLoopProblem = undefined;
      } catch (error) {
        const message = errorText(error);
        if (message !== lastLoopProblem) log(`[metacontroller-standin] poll failed: ${message}`);
        lastLoopProblem = message;
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  log(`[metacontroller-standin] started (poll every ${pollIntervalMs} ms, ${workers} workers per controller)`);
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await Promise.allSettled([...running]);
      api.close();
    },
    syncCount: () => syncs,
  };
}
