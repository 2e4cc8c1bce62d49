// A watch-fed copy of one collection, so /metrics, /debug/schedules, housekeeping and the nudge
// read memory instead of listing the cluster on every scrape and tick: one paged LIST at start
// (and after the watch expires), then only changes. Objects are kept without what no reader uses
// and what makes them big (managedFields, last-applied annotations), which bounds the memory per
// object. Nothing here runs on a hook call: hooks never wait for it.
import { KubernetesObjectApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export interface CollectionSource {
  apiVersion: string;
  kind: string;
  /** The watch path, e.g. `/apis/batch/v1/jobs`. */
  path: string;
  labelSelector?: string;
}

export interface WatchedCollection<T> {
  /** Once the first LIST has arrived. */
  readonly synced: boolean;
  items(): T[];
  stop(): void;
}

const HEAVY_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'metacontroller.k8s.io/last-applied-configuration'];
const PAGE = 500;

/** The object without managedFields and last-applied annotations, in the API's JSON form. */
export function slim<T>(object: KubernetesObject): T {
  const plain = JSON.parse(JSON.stringify(object)) as { metadata?: { managedFields?: unknown; annotations?: Record<string, string> } };
  if (plain.metadata !== undefined) {
    delete plain.metadata.managedFields;
    const annotations = plain.metadata.annotations;
    if (annotations !== undefined) for (const key of HEAVY_ANNOTATIONS) delete annotations[key];
  }
  return plain as T;
}

export function watchCollection<T>(kubeConfig: KubeConfig, source: CollectionSource, onError: (error: unknown) => void): WatchedCollection<T> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const watch = new Watch(kubeConfig);
  const objects = new Map<string, T>();
  let synced = false;
  let stopped = false;
  let abort: AbortController | undefined;
  const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

  async function relist(): Promise<string> {
    const fresh = new Map<string, T>();
    let token: string | undefined;
    let version = '';
    do {
      const page = await api.list(source.apiVersion, source.kind, undefined, undefined, undefined, undefined, undefined, source.labelSelector, PAGE, token);
      for (const item of page.items) fresh.set(key(item), slim<T>(item));
      token = page.metadata?._continue;
      version = page.metadata?.resourceVersion ?? version;
    } while (token !== undefined && token !== '');
    objects.clear();
    for (const [k, v] of fresh) objects.set(k, v);
    synced = true;
    return version;
  }

  async function run(): Promise<void> {
    let version: string | undefined;
    while (!stopped) {
      try {
        version ??= await relist();
        const ended = new Promise<unknown>((resolve) => {
          void watch
            .watch(source.path, { resourceVersion: version, allowWatchBookmarks: true, ...(source.labelSelector === undefined ? {} : { labelSelector: source.labelSelector }) }, (type, object: KubernetesObject) => {
              if (object.metadata?.resourceVersion !== undefined) version = object.metadata.resourceVersion;
              if (type === 'ADDED' || type === 'MODIFIED') objects.set(key(object), slim<T>(object));
              else if (type === 'DELETED') objects.delete(key(object));
              else if (type === 'ERROR') version = undefined;
            }, resolve)
            .then((controller) => (abort = controller), resolve);
        });
        const error = await ended;
        if (error !== null && error !== undefined) throw error;
      } catch (error) {
        if (stopped) return;
        // 410 Gone and other errors: start over with a LIST, after a pause.
        version = undefined;
        onError(error);
        await new Promise((resolve) => setTimeout(resolve, 2000).unref());
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
      abort?.abort();
    },
  };
}
