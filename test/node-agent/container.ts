// Runs one "container" as a local process: inside private mount, PID and UTS (hostname) namespaces
// (unshare) its root is an overlay of its image's root file system (images.ts) with a fresh
// writable layer, as a container runtime makes it; volumes are bind-mounted at their mountPaths,
// the root is made read-only when the container asks for it, and the command runs chrooted there.
import { writeFileSync } from 'node:fs';
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
  /** An empty host directory: the container's root is mounted on it inside the namespace only. */
  rootDir: string;
  /** The image's root file system: the overlay's lower, never written. */
  imageRoot: string;
  /** securityContext.readOnlyRootFilesystem. */
  readOnlyRoot: boolean;
  mounts: Mount[];
  workingDir: string;
  argv: string[];
  env: Record<string, string>;
  user: { uid: number; gid: number } | undefined;
  logPath: string;
}

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell commands that build the root, in order. */
export function mountScript(launch: ContainerLaunch): string[] {
  const root = launch.rootDir;
  const at = (path: string): string => quote(join(root, path));
  // The writable layer lives beside the root and starts empty at every (re)start of the container.
  const layer = join(dirname(root), 'layer');
  const upper = join(layer, 'upper');
  const work = join(layer, 'work');
  const ops = ['set -e', `/usr/bin/hostname ${quote(launch.hostname)}`];
  ops.push(`/bin/rm -rf ${quote(layer)}`, `/bin/mkdir -p ${quote(upper)} ${quote(work)}`);
  ops.push(`/bin/mount -t overlay node-agent-root -o ${quote(`lowerdir=${launch.imageRoot},upperdir=${upper},workdir=${work}`)} ${quote(root)}`);
  ops.push(`/bin/mkdir -p ${at('proc')} ${at('sys')} ${at('dev')}`);
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
  // Mount points are made first; then the root itself may turn read-only, its mounts stay as they are.
  if (launch.readOnlyRoot) ops.push(`/bin/mount -o remount,ro ${quote(root)}`);
  const userspec = launch.user === undefined ? '' : `--userspec=${launch.user.uid}:${launch.user.gid} `;
  // The image's sh changes to the working directory (every image the agent runs has one), as the
  // runtime does before it starts the command.
  ops.push(`exec /usr/sbin/chroot ${userspec}${quote(root)} /bin/sh -c 'cd -- "$0" && exec "$@"' ${quote(launch.workingDir)} "$@"`);
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
