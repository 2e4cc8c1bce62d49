// A container's environment as kubelet builds it: envFrom first, then env in order, with `$(VAR)`
// references expanded against what is defined so far; command and args expanded last.
import type { KubeRest } from '../env/kube-rest.ts';
import type { ConfigMap, Container, Pod, Secret } from './types.ts';

/** kubelet's expansion: `$(NAME)` → value if defined (else kept), `$$` → `$`. */
export function expand(input: string, env: ReadonlyMap<string, string>): string {
  return input.replace(/\$(\$|\(([^)]*)\))/g, (match, _inner: string, name: string | undefined) => {
    if (name === undefined) return '$';
    return env.get(name) ?? match;
  });
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Reads the Secrets and ConfigMaps a Pod refers to; missing ones are asked for again next time. */
export class ObjectReader {
  private readonly kube: KubeRest;
  private readonly namespace: string;
  private readonly cache = new Map<string, Record<string, string>>();

  constructor(kube: KubeRest, namespace: string) {
    this.kube = kube;
    this.namespace = namespace;
  }

  /** Decoded data of a Secret or ConfigMap; undefined if it does not exist. */
  async data(kind: 'Secret' | 'ConfigMap', name: string): Promise<Record<string, string> | undefined> {
    const key = `${kind}/${name}`;
    if (!this.cache.has(key)) {
      const resource = kind === 'Secret' ? 'secrets' : 'configmaps';
      const object = await this.kube.get<Secret | ConfigMap>(`/api/v1/namespaces/${this.namespace}/${resource}/${name}`);
      if (object === undefined) return undefined;
      this.cache.set(key, decode(kind, object));
    }
    return this.cache.get(key);
  }

  async required(kind: 'Secret' | 'ConfigMap', name: string, optional: boolean | undefined): Promise<Record<string, string>> {
    const data = await this.data(kind, name);
    if (data === undefined && optional !== true) throw new Error(`${kind.toLowerCase()} "${name}" not found`);
    return data ?? {};
  }
}

function decode(kind: 'Secret' | 'ConfigMap', object: Secret | ConfigMap): Record<string, string> {
  const out: Record<string, string> = {};
  if (kind === 'Secret') {
    for (const [k, v] of Object.entries(object.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }
  const configMap = object as ConfigMap;
  Object.assign(out, configMap.data ?? {});
  for (const [k, v] of Object.entries(configMap.binaryData ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

function fieldValue(pod: Pod, path: string): string {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (labelOrAnnotation !== null) {
    const map = labelOrAnnotation[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[labelOrAnnotation[2] ?? ''] ?? '';
  }
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName,
    'status.hostIP': '127.0.0.1',
    'status.podIP': '127.0.0.1',
  };
  if (!(path in fields)) throw new Error(`fieldRef ${path} is not supported by the node agent`);
  return fields[path] ?? '';
}

export interface ResolvedCommand {
  env: Map<string, string>;
  argv: string[];
}

/** The environment and argv of a container; throws like kubelet's CreateContainerConfigError. */
export async function resolveCommand(pod: Pod, container: Container, objects: ObjectReader): Promise<ResolvedCommand> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (ref === undefined) continue;
    const data = await objects.required(source.secretRef ? 'Secret' : 'ConfigMap', ref.name, ref.optional);
    for (const [key, value] of Object.entries(data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (ENV_NAME.test(name)) env.set(name, value);
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    let value: string;
    if (from?.secretKeyRef !== undefined || from?.configMapKeyRef !== undefined) {
      const ref = (from.secretKeyRef ?? from.configMapKeyRef) as { name: string; key: string; optional?: boolean };
      const data = await objects.required(from.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name, ref.optional);
      const found = data[ref.key];
      if (found === undefined) {
        if (ref.optional === true) continue;
        throw new Error(`couldn't find key ${ref.key} in ${from.secretKeyRef ? 'Secret' : 'ConfigMap'} ${pod.metadata.namespace}/${ref.name}`);
      }
      value = found;
    } else if (from?.fieldRef !== undefined) {
      value = fieldValue(pod, from.fieldRef.fieldPath);
    } else {
      value = expand(variable.value ?? '', env);
    }
    env.set(variable.name, value);
  }
  // No image entrypoint exists here, so a container without command runs its args.
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map((arg) => expand(arg, env));
  if (argv.length === 0) throw new Error(`container ${container.name} has no command: the node agent cannot run image entrypoints`);
  return { env, argv };
}
