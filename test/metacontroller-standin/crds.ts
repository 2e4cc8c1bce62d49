// Installs the stand-in's minimal Metacontroller CRDs (metacontroller-crds.yaml) and waits until
// the API server serves them.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { isStatus, KubeApi } from './kube-api.ts';
import type { KubeObject } from './kube-types.ts';

export const STANDIN_CRDS_PATH = new URL('./metacontroller-crds.yaml', import.meta.url);

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export function standinCrds(): KubeObject[] {
  return parseAllDocuments(readFileSync(STANDIN_CRDS_PATH, 'utf8')).map((doc) => doc.toJS() as KubeObject);
}

function established(crd: KubeObject): boolean {
  const conditions = (crd['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Established' && c.status === 'True');
}

/** Creates or replaces both CRDs, then waits (up to timeoutMs) until they are Established and served. */
export async function applyMetacontrollerStandinCrds(kubeconfigPath: string, timeoutMs = 30_000): Promise<void> {
  const api = new KubeApi(kubeconfigPath);
  try {
    for (const crd of standinCrds()) {
      const path = `${CRD_PATH}/${crd.metadata?.name}`;
      try {
        const live = await api.request<KubeObject>('GET', path);
        await api.request('PUT', path, { ...crd, metadata: { ...crd.metadata, resourceVersion: live.metadata?.resourceVersion } });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
        await api.request('POST', CRD_PATH, crd);
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (const crd of standinCrds()) {
      for (;;) {
        const live = await api.request<KubeObject>('GET', `${CRD_PATH}/${crd.metadata?.name}`);
        if (established(live)) break;
        if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata?.name} not established after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // Established comes before the storage is ready: until then requests get 429 "storage is (re)initializing".
    for (const crd of standinCrds()) {
      const spec = crd['spec'] as { group: string; names: { plural: string } };
      for (;;) {
        try {
          await api.request('GET', `/apis/${spec.group}/v1alpha1/${spec.names.plural}`);
          break;
        } catch (error) {
          if (!isStatus(error, 429) && !isStatus(error, 404)) throw error;
        }
        if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata?.name} not served after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    api.close();
  }
}
