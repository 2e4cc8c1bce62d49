// Runs one "container" as a local process: inside private mount, PID and UTS (hostname) namespaces (unshare) it builds a
// root directory from bind mounts of the host's top-level directories, mounts the volumes at their
// mountPaths and chroots there. Mount points that do not exist on the host are created only inside
// tmpfs directories of that private root, so nothing ever appears in the host's /data or /tmp.
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startManaged, type Managed } from '../env/processes.ts';

export interface Mount {
  /** A host directory, or a host file when `file` is set. */
  source: string;
  /** The absolute path inside the container. */
  target: string;
  readOnly: boolean;
  file: boolean;
}

export interface ContainerLaunch {
  name: string;
  /** The Pod's hostname, as kubelet sets it (its name): restic writes it into its locks. */
  hostname: string;
  /** An empty host directory; the private root is a tmpfs mounted on it inside the namespace only. */
  rootDir: string;
  mounts: Mount[];
  workingDir: string;
  argv: string[];
  env: Record<string, string>;
  user: { uid: number; gid: number } | undefined;
  logPath: string;
}

// Host directories the container does not share: /proc and /sys are mounted separately, /dev is
// a minimal tmpfs (so /dev/termination-log can be created), /tmp is private to the container.
const OWN_TOP_LEVEL = new Set(['proc', 'sys', 'dev', 'tmp']);
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Mirrors host directory `hostDir` at `rootDir`: whole subtrees are bind-mounted, except those on
 * the way to a mount point that does not exist on the host, which become tmpfs directories holding
 * binds of their entries, so the missing mount point can be created there.
 */
function mirror(hostDir: string, rootDir: string, needed: string[][], top: boolean, ops: string[]): void {
  for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
    if (top && OWN_TOP_LEVEL.has(entry.name)) continue;
    const host = join(hostDir, entry.name);
    const inRoot = join(rootDir, entry.name);
    if (entry.isSymbolicLink()) {
      ops.push(`/bin/ln -s ${quote(readlinkSync(host))} ${quote(inRoot)}`);
    } else if (!entry.isDirectory()) {
      ops.push(`/bin/touch ${quote(inRoot)}`, `/bin/mount --bind ${quote(host)} ${quote(inRoot)}`);
    } else {
      ops.push(`/bin/mkdir ${quote(inRoot)}`);
      const below = needed.filter((path) => path[0] === entry.name && path.length > 1).map((path) => path.slice(1));
      if (below.some((path) => !existsSync(join(host, ...path)))) mirror(host, inRoot, below, false, ops);
      else ops.push(`/bin/mount --rbind ${quote(host)} ${quote(inRoot)}`);
    }
  }
}

/** The shell commands that build the root, in order. */
export function mountScript(launch: ContainerLaunch): string[] {
  const root = launch.rootDir;
  const at = (path: string): string => quote(join(root, path));
  const ops = ['set -e', `/usr/bin/hostname ${quote(launch.hostname)}`, `/bin/mount -t tmpfs -o mode=755 node-agent-root ${quote(root)}`];
  const needed = [...launch.mounts.map((m) => m.target), launch.workingDir].map((p) => p.split('/').filter((part) => part !== ''));
  mirror('/', root, needed, true, ops);
  ops.push(`/bin/mkdir ${at('proc')} ${at('sys')} ${at('dev')}`, `/bin/mkdir -m 1777 ${at('tmp')}`);
  ops.push(`/bin/mount -t proc proc ${at('proc')}`, `/bin/mount --rbind /sys ${at('sys')}`);
  ops.push(`/bin/mount -t tmpfs -o mode=755,nosuid node-agent-dev ${at('dev')}`);
  for (const device of DEVICES) ops.push(`/bin/touch ${at(`dev/${device}`)}`, `/bin/mount --bind /dev/${device} ${at(`dev/${device}`)}`);
  ops.push(`/bin/mkdir ${at('dev/shm')} ${at('dev/pts')}`, `/bin/mount -t tmpfs -o mode=1777 shm ${at('dev/shm')}`);
  ops.push(`/bin/ln -s /proc/self/fd ${at('dev/fd')}`);
  for (const [i, name] of ['stdin', 'stdout', 'stderr'].entries()) ops.push(`/bin/ln -s /proc/self/fd/${i} ${at(`dev/${name}`)}`);
  // Parents before children, so a volume mounted inside another one lands on top of it.
  const mounts = [...launch.mounts].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  for (const m of mounts) {
    const target = at(m.target);
    if (m.file) ops.push(`/bin/mkdir -p ${quote(dirname(join(root, m.target)))}`, `[ -e ${target} ] || /bin/touch ${target}`);
    else ops.push(`/bin/mkdir -p ${target}`);
    ops.push(`/bin/mount --bind ${quote(m.source)} ${target}`);
    if (m.readOnly) ops.push(`/bin/mount -o remount,bind,ro ${target}`);
  }
  ops.push(`/bin/mkdir -p ${at(launch.workingDir)}`);
  const userspec = launch.user === undefined ? '' : `--userspec=${launch.user.uid}:${launch.user.gid} `;
  ops.push(`exec /usr/sbin/chroot ${userspec}${quote(root)} /usr/bin/env --chdir=${quote(launch.workingDir)} -- "$@"`);
  return ops;
}

/** Starts the container's process; its process group (and PID namespace) is the container. */
export function launchContainer(launch: ContainerLaunch): Managed {
  // Kept next to the root directory, for whoever debugs a container that did not start.
  const script = join(dirname(launch.rootDir), 'start.sh');
  writeFileSync(script, `${mountScript(launch).join('\n')}\n`);
  return startManaged({
    name: launch.name,
    command: '/usr/bin/unshare',
    // A PID namespace whose init dies with unshare (--kill-child), which dies with the agent
    // (setpriv --pdeathsig): no process of the container can outlive the agent, even on SIGKILL.
    args: ['--mount', '--pid', '--uts', '--fork', '--kill-child', '--propagation', 'private', '--', '/bin/sh', script, ...launch.argv],
    logPath: launch.logPath,
    env: launch.env,
  });
}
