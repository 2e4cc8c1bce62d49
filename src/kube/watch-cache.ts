// A watch-fed copy of one collection, so /metrics, /debug/schedules, housekeeping and the nudge
// read memory instead of listing the cluster on every scrape and tick: one paged LIST at start
// (and after the watch expires), then only changes. Objects are kept without what no reader uses
// and what makes them big (managedFields, last-applied annotations), which bounds the memory per
// object. Nothing here runs on a hook call: hooks never wait for it.
import { listAll, type KubeClient } from './rest.ts';

export interface CollectionSource {
  /** The collection's path, e.g. `/apis/batch/v1/jobs`. */
  path: string;
  labelSelector?: string;
}

export interface WatchedCollection<T> {
  /** Once the first LIST has arrived. */
  readonly synced: boolean;
  items(): T[];
  stop(): void;
}

interface Meta {
  metadata?: { namespace?: string; name?: string; resourceVersion?: string; managedFields?: unknown; annotations?: Record<string, string> };
}

const HEAVY_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'metacontroller.k8s.io/last-applied-configuration'];
const RETRY_PAUSE_MS = 2000;

/** The object without managedFields and last-applied annotations (changed in place: it is ours). */
export function slim<T>(object: Meta): T {
  if (object.metadata !== undefined) {
    delete object.metadata.managedFields;
    const annotations = object.metadata.annotations;
    if (annotations !== undefined) for (const key of HEAVY_ANNOTATIONS) delete annotations[key];
  }
  return object as T;
}

/** Between 5 and 10 minutes, as client-go does, so replicas do not re-watch in step. */
const watchTimeoutSeconds = () => String(300 + Math.floor(Math.random() * 300));

export function watchCollection<T>(client: KubeClient, source: CollectionSource, onError: (error: unknown) => void): WatchedCollection<T> {
  const objects = new Map<string, T>();
  let synced = false;
  let stopped = false;
  const abort = new AbortController();
  const key = (o: Meta) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const selector = source.labelSelector === undefined ? {} : { labelSelector: source.labelSelector };

  async function relist(): Promise<string> {
    const { items, resourceVersion } = await listAll<Meta>(client, source.path, source.labelSelector);
    objects.clear();
    for (const item of items) objects.set(key(item), slim<T>(item));
    synced = true;
    return resourceVersion;
  }

  async function run(): Promise<void> {
    let version: string | undefined;
    while (!stopped) {
      try {
        version ??= await relist();
        const query = { resourceVersion: version, allowWatchBookmarks: 'true', timeoutSeconds: watchTimeoutSeconds(), ...selector };
        await client.watch(source.path, query, (type, value) => {
          const object = value as Meta;
          if (type === 'ERROR') {
            // Mostly 410 Gone: the version is too old to resume from; list again.
            version = undefined;
            return;
          }
          if (object.metadata?.resourceVersion !== undefined) version = object.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED') objects.set(key(object), slim<T>(object));
          else if (type === 'DELETED') objects.delete(key(object));
        }, abort.signal);
      } catch (error) {
        if (stopped) return;
        version = undefined;
        onError(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS).unref());
      }
    }
  }
  void run();
  return {
    get synced() {
      return synced;
    },
    items: () => [...objects.values()],
    stop: () => {
      stopped = true;
      abort.abort();
    },
  };
}
