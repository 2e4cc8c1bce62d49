// The Node object the agent stands for: registered once, kept Ready by a heartbeat.
import type { KubeRest } from '../env/kube-rest.ts';

export const NODE_NAME = 'backsnap-node-agent';

export function nodeLabels(nodeName: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'node.backsnap.test/agent': 'true',
  };
}

function nodeStatus(): unknown {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const resources = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
  });
  return {
    capacity: resources,
    allocatable: resources,
    conditions: [
      condition('Ready', 'True', 'KubeletReady', 'node agent is posting ready status'),
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'node agent has sufficient memory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'node agent has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'node agent has sufficient PID'),
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'localhost' },
    ],
    nodeInfo: {
      machineID: 'node-agent',
      systemUUID: 'node-agent',
      bootID: 'node-agent',
      kernelVersion: 'local',
      osImage: 'backsnap node agent (test stand-in for kubelet)',
      containerRuntimeVersion: 'node-agent://local',
      kubeletVersion: 'v0.0.0-node-agent',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** Creates (or adopts) the Node and reports it Ready; lastTransitionTime refreshes too, harmlessly. */
export async function registerNode(kube: KubeRest, nodeName: string): Promise<void> {
  await kube.createIfAbsent('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: nodeName, labels: nodeLabels(nodeName) },
  });
  // The TaintNodesByCondition admission plugin adds a not-ready taint that only the (absent)
  // node lifecycle controller would remove.
  await kube.patch(`/api/v1/nodes/${nodeName}`, { metadata: { labels: nodeLabels(nodeName) }, spec: { taints: null } });
  await heartbeat(kube, nodeName);
}

export async function heartbeat(kube: KubeRest, nodeName: string): Promise<void> {
  await kube.patch(`/api/v1/nodes/${nodeName}/status`, { status: nodeStatus() }, 'strategic');
}
