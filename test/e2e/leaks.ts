// No credential may appear anywhere but in Secrets: not in a log line, an error message, a status,
// a metric or any other object. Every value (and its base64 form) is looked for in the logs, in
// /metrics and in every object of the kinds a run touches; a finding names the credential, never
// its value.
import { readFileSync } from 'node:fs';
import type { KubeRest } from '../env/kube-rest.ts';

const COLLECTIONS = [
  '/apis/backsnap.skyb.it/v1alpha1/pvcbackups',
  '/apis/backsnap.skyb.it/v1alpha1/pvcrestores',
  '/apis/batch/v1/jobs',
  '/api/v1/pods',
  '/api/v1/persistentvolumeclaims',
  '/api/v1/persistentvolumes',
  '/api/v1/configmaps',
  '/api/v1/events',
  '/api/v1/namespaces',
  '/apis/snapshot.storage.k8s.io/v1/volumesnapshots',
  '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents',
  '/apis/metacontroller.k8s.io/v1alpha1/compositecontrollers',
  '/apis/metacontroller.k8s.io/v1alpha1/decoratorcontrollers',
];

export interface LeakSources {
  kube: KubeRest;
  /** Name → value of every credential in play. */
  credentials: Map<string, string>;
  logs: string[];
  urls: string[];
}

export async function findLeaks(sources: LeakSources): Promise<string[]> {
  const forms = [...sources.credentials].flatMap(([name, value]) => [
    { name, form: value },
    { name: `${name} (base64)`, form: Buffer.from(value).toString('base64') },
  ]);
  const findings: string[] = [];
  const scan = (where: string, text: string) => {
    for (const { name, form } of forms) if (text.includes(form)) findings.push(`${where} contains ${name}`);
  };
  for (const path of sources.logs) scan(path, readFileSync(path, 'utf8'));
  for (const url of sources.urls) scan(url, await (await fetch(url)).text());
  for (const collection of COLLECTIONS) {
    const list = await sources.kube.list<{ kind?: string; metadata: { namespace?: string; name: string } }>(collection).catch(() => ({ items: [] }));
    for (const item of list.items) scan(`${collection} ${item.metadata.namespace ?? ''}/${item.metadata.name}`, JSON.stringify(item));
  }
  return findings;
}
