// The service's logger: pino's JSON lines on stdout. The lines of one event-loop turn are written
// together, in one synchronous write when the turn ends (setImmediate): in a busy server a write
// per line was about half of what the decision line cost (docs/performance.md). A line is still
// written microseconds after its decision and before any timer or new I/O is handled, and the rest
// is written on exit, so a crash loses nothing and only a SIGKILL within the same turn loses lines.
// pino's asynchronous destination is no cheaper here (one thread-pool write per line), and its
// buffered one holds lines until a size is reached, minutes at a low rate.
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export interface TurnBufferedDestination extends DestinationStream {
  /** Writes what is pending now (on exit, and in tests). */
  flushSync(): void;
}

/** Writes all of `text` to `fd`, waiting out EAGAIN when the descriptor is non-blocking (a pipe). */
function writeAll(fd: number, text: string): void {
  let data: Buffer | undefined;
  let offset = 0;
  for (;;) {
    try {
      // A string is written without a copy; only a partial write needs it as bytes.
      if (data === undefined) {
        const written = writeSync(fd, text);
        if (written === Buffer.byteLength(text)) return;
        data = Buffer.from(text, 'utf8');
        offset = written;
      } else {
        offset += writeSync(fd, data, offset);
      }
      if (offset >= data.length) return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export function turnBufferedDestination(fd: number): TurnBufferedDestination {
  let pending: string[] = [];
  let scheduled = false;
  const flushSync = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    writeAll(fd, chunk);
  };
  process.on('exit', flushSync);
  return {
    write(line: string): void {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
  };
}

/** The service's logger on file descriptor `fd` (stdout; benchmarks pass another). */
export function createLogger(level: string, fd = 1): Logger {
  return pino({ level, base: { service: 'backsnap-ts' } }, turnBufferedDestination(fd));
}
