// Child processes of the test environment: each runs in its own process group with its output in a
// log file, and none may outlive the Node process that started it, even when a test crashes.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Managed {
  name: string;
  logPath: string;
  child: ChildProcess;
  /** Settles when the process has exited; never rejects. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Kills every process group still running; safe to call from an 'exit' handler (synchronous). */
export function killAllNow(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
}

// 'exit' does not fire on a deadly signal, so signals get a handler that cleans up and re-raises.
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a command in a new process group; stdout and stderr go to logPath. `setpriv --pdeathsig`
 * makes the kernel kill the process if its parent dies without running any handler (SIGKILL, OOM).
 */
export function startManaged(opts: StartOptions): Managed {
  installExitHooks();
  const fd = openSync(opts.logPath, 'a');
  const child = spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
  closeSync(fd);
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      running.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  // An unref'd child lets a test process end once its work is done; stop() still waits for it.
  child.unref();
  const stop = async (graceMs = 5000): Promise<void> => {
    // Whoever awaits stop() must see the exit: an unref'd child alone would let Node quit first.
    child.ref();
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // Members of the group that ignored SIGTERM must not survive their leader.
    killGroup(child, 'SIGKILL');
  };
  return { name: opts.name, logPath: opts.logPath, child, exited, stop };
}

/** The last lines of a log file, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; failFast?: () => string | undefined } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    const fatal = opts.failFast?.();
    if (fatal !== undefined) throw new Error(`${what}: ${fatal}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 200));
  }
}
