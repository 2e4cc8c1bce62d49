// API discovery: maps a resource plural to its kind and scope, and tells whether it has a status
// subresource (a CompositeController parent must). CRDs appear while the stand-in runs, so a miss
// re-reads the group version, at most once a second.
import { groupVersionPath, isStatus, type KubeApi } from './kube-api.ts';
import { isPlainObject, type ResourceInfo } from './kube-types.ts';

export function parseResourceList(apiVersion: string, body: unknown): ResourceInfo[] {
  const entries = isPlainObject(body) && Array.isArray(body['resources']) ? body['resources'] : [];
  const names = new Set(entries.map((entry) => (isPlainObject(entry) ? String(entry['name']) : '')));
  const out: ResourceInfo[] = [];
  for (const entry of entries) {
    if (!isPlainObject(entry)) continue;
    const name = String(entry['name'] ?? '');
    if (name === '' || name.includes('/')) continue; // subresources
    out.push({ apiVersion, resource: name, kind: String(entry['kind'] ?? ''), namespaced: entry['namespaced'] === true, hasStatus: names.has(`${name}/status`) });
  }
  return out;
}

const REFRESH_AFTER_MS = 1000;

export class Discovery {
  private readonly api: KubeApi;
  private readonly cache = new Map<string, { fetchedAt: number; resources: ResourceInfo[] }>();

  constructor(api: KubeApi) {
    this.api = api;
  }

  private async resources(apiVersion: string, forceFresh: boolean): Promise<ResourceInfo[]> {
    const cached = this.cache.get(apiVersion);
    if (cached !== undefined && (!forceFresh || Date.now() - cached.fetchedAt < REFRESH_AFTER_MS)) return cached.resources;
    let resources: ResourceInfo[] = [];
    try {
      resources = parseResourceList(apiVersion, await this.api.request('GET', groupVersionPath(apiVersion)));
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    this.cache.set(apiVersion, { fetchedAt: Date.now(), resources });
    return resources;
  }

  private async find(apiVersion: string, match: (r: ResourceInfo) => boolean, what: string): Promise<ResourceInfo> {
    const found = (await this.resources(apiVersion, false)).find(match) ?? (await this.resources(apiVersion, true)).find(match);
    if (found === undefined) throw new Error(`can't find ${what} in apiVersion ${JSON.stringify(apiVersion)}`);
    return found;
  }

  resolve(apiVersion: string, resource: string): Promise<ResourceInfo> {
    return this.find(apiVersion, (r) => r.resource === resource, `resource ${JSON.stringify(resource)}`);
  }

  byKind(apiVersion: string, kind: string): Promise<ResourceInfo> {
    return this.find(apiVersion, (r) => r.kind === kind, `kind ${JSON.stringify(kind)}`);
  }
}
