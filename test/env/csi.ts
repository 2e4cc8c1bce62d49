// The real CSI hostpath driver and the CSI sidecars (external-provisioner, snapshot-controller,
// external-snapshotter), built by build-tools.sh and run out of cluster against the local control
// plane. The driver keeps its volumes as directories under `<dir>/state`; a node stand-in (the
// node agent) mounts them into pods through the driver's node service, see csiNodeClient().
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeRest } from './kube-rest.ts';
import { logTail, startManaged, waitFor, type Managed } from './processes.ts';

/** The hostpath driver's own default name: PVs, VolumeSnapshotContents and classes carry it. */
export const CSI_DRIVER = 'hostpath.csi.k8s.io';
/** Names of the default classes (the names controlplane.ts has used for the node agent's ones). */
export const CSI_STORAGE_CLASS = 'backsnap-test';
export const CSI_SNAPSHOT_CLASS = 'backsnap-test';

export interface Csi {
  driverName: string;
  /** The driver's unix socket (CSI Identity, Controller and Node services). */
  socketPath: string;
  /** Where the driver keeps state.json, a directory per volume and a `<id>.snap` per snapshot. */
  stateDir: string;
  /** The backing directory of a volume: PV spec.csi.volumeHandle is the volume id. */
  volumePath(volumeHandle: string): string;
  /** The tarball of a snapshot: VolumeSnapshotContent status.snapshotHandle is the snapshot id. */
  snapshotPath(snapshotHandle: string): string;
  processes: Managed[];
  stop(): Promise<void>;
}

export interface CsiOptions {
  kubeconfigPath: string;
  /** State and logs; the socket too if the path is short enough for a unix socket. */
  dir: string;
  /** The Node the driver serves (its --nodeid); it must exist for pods, not for the driver. */
  nodeName: string;
  binDir: string;
  log?: (line: string) => void;
}

/** Longest path a unix socket address takes (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

function exited(p: Managed): boolean {
  return p.child.exitCode !== null || p.child.signalCode !== null;
}

function failFast(processes: Managed[]): () => string | undefined {
  return () => {
    for (const p of processes) {
      if (exited(p)) return `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}); log ${p.logPath}:\n${logTail(p.logPath)}`;
    }
    return undefined;
  };
}

/** Resolves once the log file contains a line matching `pattern`. */
async function logged(p: Managed, pattern: RegExp, processes: Managed[]): Promise<void> {
  await waitFor(
    `${p.name} to log ${pattern}`,
    async () => (pattern.test(readFileSync(p.logPath, 'utf8')) ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 100, failFast: failFast(processes) },
  );
}

/**
 * Starts hostpathplugin, then the sidecars against its socket. Resolves when the driver answers
 * Probe and each sidecar has logged the start of its controller (after connecting to the driver;
 * objects that exist before the informers sync are handled once they have). Processes are killed
 * with the Node process at the latest. The driver's state survives a restart on the same `dir`.
 */
export async function startCsi(opts: CsiOptions): Promise<Csi> {
  const log = opts.log ?? (() => {});
  mkdirSync(opts.dir, { recursive: true });
  const stateDir = join(opts.dir, 'state');
  let socketDir = opts.dir;
  let ownSocketDir: string | undefined;
  if (join(socketDir, 'csi.sock').length > MAX_SOCKET_PATH) {
    ownSocketDir = mkdtempSync(join(tmpdir(), 'csi-'));
    socketDir = ownSocketDir;
  }
  const socketPath = join(socketDir, 'csi.sock');
  const processes: Managed[] = [];
  const start = (name: string, args: string[]): Managed => {
    const p = startManaged({ name, command: join(opts.binDir, name), args, logPath: join(opts.dir, `${name}.log`) });
    processes.push(p);
    log(`started ${name} (pid ${p.child.pid}, log ${p.logPath})`);
    return p;
  };
  const stop = async (): Promise<void> => {
    // Sidecars first, so none of them logs errors about a vanished driver socket.
    for (const p of [...processes].reverse()) await p.stop();
    if (ownSocketDir !== undefined) rmSync(ownSocketDir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  try {
    start('hostpathplugin', [
      `--endpoint=unix://${socketPath}`,
      `--drivername=${CSI_DRIVER}`,
      `--nodeid=${opts.nodeName}`,
      `--statedir=${stateDir}`,
      // Topology would need CSINode objects (kubelet's plugin registration) for immediate binding
      // and gives every PV a node affinity on topology.hostpath.csi/node; one node needs neither.
      '--enable-topology=false',
      '--v=4',
    ]);
    await waitFor('hostpathplugin to answer Probe', async () => ((await csiNodeClient(socketPath).probe()) ? true : undefined), {
      timeoutMs: 30_000,
      failFast: failFast(processes),
    });
    const common = [`--kubeconfig=${opts.kubeconfigPath}`, '--leader-election=false', '--kube-api-qps=50', '--kube-api-burst=100'];
    // VolumeGroupSnapshot is GA and on by default; without its CRDs (controlplane.ts installs only
    // snapshot.storage.k8s.io) both snapshot binaries wait 30 s for them at start, then disable it.
    const noGroupSnapshots = '--feature-gates=CSIVolumeGroupSnapshot=false';
    const provisioner = start('csi-provisioner', [
      ...common,
      `--csi-address=${socketPath}`,
      // Passes csi.storage.k8s.io/pvc/name, pvc/namespace and pv/name to CreateVolume.
      '--extra-create-metadata',
      '--retry-interval-max=10s',
      '--v=4',
    ]);
    const controller = start('snapshot-controller', [...common, noGroupSnapshots, '--retry-interval-max=10s', '--v=4']);
    const snapshotter = start('csi-snapshotter', [
      ...common,
      noGroupSnapshots,
      `--csi-address=${socketPath}`,
      '--extra-create-metadata',
      '--retry-interval-max=10s',
      '--v=4',
    ]);
    await Promise.all([
      logged(provisioner, /Started provisioner controller/, processes),
      logged(controller, /Starting snapshot controller/, processes),
      logged(snapshotter, /Starting CSI snapshotter/, processes),
    ]);
    log(`CSI driver ${CSI_DRIVER} and sidecars ready after ${Date.now() - t0} ms`);
    return {
      driverName: CSI_DRIVER,
      socketPath,
      stateDir,
      volumePath: (volumeHandle) => join(stateDir, volumeHandle),
      snapshotPath: (snapshotHandle) => join(stateDir, `${snapshotHandle}.snap`),
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    const logs = processes.map((p) => p.logPath).join(', ');
    throw new Error(`CSI failed to start (logs: ${logs}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

// ---- Classes ----

export function csiStorageClass(name = CSI_STORAGE_CLASS, isDefault = true): Record<string, unknown> {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    provisioner: CSI_DRIVER,
    // No scheduler sets volume.kubernetes.io/selected-node, which WaitForFirstConsumer waits for.
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Delete',
  };
}

export function csiSnapshotClass(
  name = CSI_SNAPSHOT_CLASS,
  deletionPolicy: 'Delete' | 'Retain' = 'Delete',
  isDefault = true,
): Record<string, unknown> {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name, ...(isDefault ? { annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } } : {}) },
    driver: CSI_DRIVER,
    deletionPolicy,
  };
}

interface ClassLike {
  metadata: { name: string };
  provisioner?: string;
  driver?: string;
  deletionPolicy?: string;
}

/**
 * Creates the class, or replaces one of that name with another driver or deletion policy (both
 * are immutable), e.g. the node agent's classes of the same name.
 */
export async function applyClass(kube: KubeRest, collection: string, object: Record<string, unknown>): Promise<void> {
  const wanted = object as unknown as ClassLike;
  const path = `${collection}/${wanted.metadata.name}`;
  const live = await kube.get<ClassLike>(path);
  if (live !== undefined) {
    if (live.provisioner === wanted.provisioner && live.driver === wanted.driver && live.deletionPolicy === wanted.deletionPolicy) return;
    await kube.delete(path);
    // Classes carry no finalizers; the delete is immediate.
  }
  await kube.create(collection, object);
}

export const STORAGE_CLASSES = '/apis/storage.k8s.io/v1/storageclasses';
export const SNAPSHOT_CLASSES = '/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses';

/** The default StorageClass and VolumeSnapshotClass (deletionPolicy Delete) of the driver. */
export async function applyCsiClasses(kube: KubeRest): Promise<void> {
  await applyClass(kube, STORAGE_CLASSES, csiStorageClass());
  await applyClass(kube, SNAPSHOT_CLASSES, csiSnapshotClass());
}

// ---- A minimal CSI client: gRPC over HTTP/2 on the unix socket, protobuf by hand ----
// Enough of the CSI spec (csi.v1, container-storage-interface/spec v1.12) for a node stand-in:
// Identity Probe/GetPluginInfo and Node Stage/Unstage/Publish/Unpublish/GetInfo. No dependencies.

/** A gRPC error from the driver; code is the gRPC status code (5 NOT_FOUND, 9 FAILED_PRECONDITION...). */
export class CsiError extends Error {
  readonly code: number;
  constructor(method: string, code: number, message: string) {
    super(`${method}: gRPC status ${code}: ${message}`);
    this.code = code;
  }
}

type Proto = Buffer[];

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(value.length), value]);
}

const str = (field: number, value: string | undefined): Proto =>
  value === undefined || value === '' ? [] : [bytesField(field, Buffer.from(value, 'utf8'))];
const msg = (field: number, parts: Proto): Proto => [bytesField(field, Buffer.concat(parts))];
const uint = (field: number, value: number | boolean | undefined): Proto =>
  value === undefined || value === false || value === 0 ? [] : [varint(field << 3), varint(value === true ? 1 : value)];
const map = (field: number, entries: Record<string, string> | undefined): Proto =>
  Object.entries(entries ?? {}).flatMap(([k, v]) => msg(field, [...str(1, k), ...str(2, v)]));

/** Fields of a message: field number -> values (varints as numbers, length-delimited as Buffers). */
function decode(buf: Buffer): Map<number, (number | Buffer)[]> {
  const fields = new Map<number, (number | Buffer)[]>();
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated protobuf');
      result += (byte & 0x7f) * shift;
      if ((byte & 0x80) === 0) return result;
      shift *= 128;
    }
  };
  while (pos < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const length = readVarint();
      value = buf.subarray(pos, pos + length);
      pos += length;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const firstString = (fields: Map<number, (number | Buffer)[]>, field: number): string => {
  const value = fields.get(field)?.[0];
  return Buffer.isBuffer(value) ? value.toString('utf8') : '';
};

/** One unary gRPC call over a fresh HTTP/2 connection to the unix socket. */
function unary(socketPath: string, method: string, request: Proto, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.concat(request);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    let settled = false;
    let session: ClientHttp2Session | undefined;
    const finish = (error: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.close();
      session?.destroy();
      if (error === undefined) resolve(value ?? Buffer.alloc(0));
      else reject(error);
    };
    const timer = setTimeout(() => finish(new Error(`${method}: timed out after ${timeoutMs} ms`)), timeoutMs);
    session = http2Connect('http://localhost', { createConnection: () => netConnect(socketPath) });
    session.on('error', (error) => finish(error));
    const req = session.request({
      ':method': 'POST',
      ':path': method,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: IncomingHttpHeaders = {};
    req.on('response', (headers) => (status = headers));
    req.on('trailers', (trailers) => (status = { ...status, ...trailers }));
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', (error) => finish(error));
    req.on('end', () => {
      const code = Number(status['grpc-status'] ?? '2');
      if (code !== 0) {
        const message = decodeURIComponent(String(status['grpc-message'] ?? 'no grpc-message'));
        finish(new CsiError(method, code, message));
        return;
      }
      const data = Buffer.concat(chunks);
      finish(undefined, data.length >= 5 ? data.subarray(5, 5 + data.readUInt32BE(1)) : Buffer.alloc(0));
    });
    req.end(frame);
  });
}

export interface PublishOptions {
  volumeId: string;
  /** The driver's volume context (PV spec.csi.volumeAttributes); kubelet passes it along. */
  volumeContext?: Record<string, string>;
  fsType?: string;
  mountFlags?: string[];
  readonly?: boolean;
  /** csi.v1 VolumeCapability.AccessMode.Mode; 1 SINGLE_NODE_WRITER (RWO), 5 MULTI_NODE_MULTI_WRITER (RWX). */
  accessMode?: number;
}

function mountCapability(o: PublishOptions): Proto {
  return [
    ...msg(2, [...str(1, o.fsType), ...(o.mountFlags ?? []).flatMap((f) => str(2, f))]),
    ...msg(3, uint(1, o.accessMode ?? 1)),
  ];
}

export interface CsiNodeClient {
  /** Identity.Probe: true when the driver says it is ready (or says nothing, which means ready). */
  probe(): Promise<boolean>;
  pluginInfo(): Promise<{ name: string; vendorVersion: string }>;
  nodeId(): Promise<string>;
  /** The hostpath driver only records the staging path (it advertises STAGE_UNSTAGE_VOLUME). */
  stage(o: PublishOptions & { stagingTargetPath: string }): Promise<void>;
  unstage(volumeId: string, stagingTargetPath: string): Promise<void>;
  /** Bind-mounts the volume's directory on targetPath (the driver creates targetPath). */
  publish(o: PublishOptions & { stagingTargetPath: string; targetPath: string }): Promise<void>;
  /** Unmounts targetPath and removes it. */
  unpublish(volumeId: string, targetPath: string): Promise<void>;
}

export function csiNodeClient(socketPath: string, timeoutMs = 30_000): CsiNodeClient {
  const call = (method: string, request: Proto): Promise<Buffer> => unary(socketPath, `/csi.v1.${method}`, request, timeoutMs);
  return {
    async probe() {
      const ready = decode(await call('Identity/Probe', [])).get(1)?.[0];
      if (!Buffer.isBuffer(ready)) return true;
      return decode(ready).get(1)?.[0] === 1;
    },
    async pluginInfo() {
      const fields = decode(await call('Identity/GetPluginInfo', []));
      return { name: firstString(fields, 1), vendorVersion: firstString(fields, 2) };
    },
    async nodeId() {
      return firstString(decode(await call('Node/NodeGetInfo', [])), 1);
    },
    async stage(o) {
      await call('Node/NodeStageVolume', [
        ...str(1, o.volumeId),
        ...str(3, o.stagingTargetPath),
        ...msg(4, mountCapability(o)),
        ...map(6, o.volumeContext),
      ]);
    },
    async unstage(volumeId, stagingTargetPath) {
      await call('Node/NodeUnstageVolume', [...str(1, volumeId), ...str(2, stagingTargetPath)]);
    },
    async publish(o) {
      await call('Node/NodePublishVolume', [
        ...str(1, o.volumeId),
        ...str(3, o.stagingTargetPath),
        ...str(4, o.targetPath),
        ...msg(5, mountCapability(o)),
        ...uint(6, o.readonly),
        ...map(8, o.volumeContext),
      ]);
    },
    async unpublish(volumeId, targetPath) {
      await call('Node/NodeUnpublishVolume', [...str(1, volumeId), ...str(2, targetPath)]);
    },
  };
}
