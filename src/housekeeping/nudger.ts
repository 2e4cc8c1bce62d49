// Carries out planNudges every BACKSNAP_NUDGE_INTERVAL, from the moment the service starts (so a
// restart after an outage records finished Jobs within seconds). Safe with several replicas: a
// second nudge of the same run is one more harmless annotation write. Failures are logged, never thrown.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { formatTime } from '../duration.ts';
import type { Cluster } from '../kube/cluster.ts';
import { NUDGE_ANNOTATION, planNudges } from './nudge.ts';

export interface Nudger {
  stop(): void;
}

export function startNudger(cluster: () => Cluster, config: Config, logger: FastifyBaseLogger, now: () => Date): Nudger {
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const api = cluster();
      const [backups, restores, jobs] = await Promise.all([api.listBackups(), api.listRestores(), api.listJobs()]);
      const at = now();
      for (const nudge of planNudges([...backups, ...restores], jobs, config, at)) {
        const done = await api.annotateRun(nudge.kind, nudge, { [NUDGE_ANNOTATION]: formatTime(at) });
        logger.info({ nudge: `${nudge.namespace}/${nudge.name}`, kind: nudge.kind, jobFinishedAt: nudge.jobFinishedAt, done }, 'asked Metacontroller to sync a run whose Job finished');
      }
    } catch (error) {
      logger.warn({ err: error }, 'looking for runs to nudge failed');
    } finally {
      running = false;
    }
  };
  if (config.nudgeIntervalMs <= 0) return { stop: () => {} };
  void tick();
  const timer = setInterval(() => void tick(), config.nudgeIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
