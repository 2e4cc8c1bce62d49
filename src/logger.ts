// The service's logger: JSON lines on stdout, written synchronously as pino does by default, so a
// crash loses no line and a decision is visible the moment it is made. Benchmarks build theirs
// here too, with another file descriptor, so they pay exactly what production pays per line.
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination: number | string = 1): Logger {
  return pino({ level, base: { service: 'backsnap-ts' } }, pino.destination({ dest: destination, sync: true }));
}
