// GET /metrics: hook latency and errors by route (this replica), plus backup state per PVC read
// from the cluster at scrape time (the same on every replica).
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config.ts';
import { readClusterState, type Cluster } from '../kube/cluster.ts';
import { backupMetrics, type PvcBackupMetrics } from '../metrics/backups.ts';
import { scheduleIntervals } from '../metrics/intervals.ts';

/** PVCs computed per turn of the event loop during a scrape: under 10 ms of work on 2 slow cores. */
const ROWS_PER_SLICE = 25;

export interface MetricsDeps {
  config: Config;
  now: () => Date;
  cluster: () => Cluster;
}

/** Records one hook decision, e.g. how often backups wait for a slot or schedules are invalid. */
export type DecisionRecorder = (route: string, reason: string) => void;

export interface Metrics {
  /** Latency and errors of the hook routes of this server. */
  instrumentHooks(hooks: FastifyInstance): void;
  recordDecision: DecisionRecorder;
  /** GET /metrics on this server. */
  registerRoute(app: FastifyInstance): void;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'backsnap_process_' });
  const hookDuration = new Histogram({ name: 'backsnap_hook_duration_seconds', help: 'Hook request latency by route', labelNames: ['route', 'code'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const decisions = new Counter({ name: 'backsnap_hook_decisions_total', help: 'Hook decisions by route and reason', labelNames: ['route', 'reason'], registers: [registry] });
  const hookErrors = new Counter({ name: 'backsnap_hook_errors_total', help: 'Hook requests answered with a 4xx or 5xx, by route', labelNames: ['route', 'code'], registers: [registry] });
  const gauge = (name: string, help: string, labelNames: string[] = ['namespace', 'pvc']) => new Gauge({ name, help, labelNames, registers: [registry] });
  const lastSuccess = gauge('backsnap_backup_last_success_timestamp_seconds', 'When the newest successful backup of the PVC finished');
  const lastFailed = gauge('backsnap_backup_last_failed', '1 when the newest finished backup of the PVC failed');
  const lastDuration = gauge('backsnap_backup_last_duration_seconds', 'Duration of the newest finished backup of the PVC');
  const interval = gauge('backsnap_backup_schedule_interval_seconds', 'Seconds between two schedule slots of the PVC');
  const invalid = gauge('backsnap_backup_schedule_invalid', '1 when the PVC\'s schedule is not a valid cron expression');
  const overdue = gauge('backsnap_backup_overdue', '1 when the PVC has no successful backup within twice its schedule interval');
  const runningFor = gauge('backsnap_backup_running_seconds', 'How long the PVC\'s running backup has been running');
  const snapshotsKept = gauge('backsnap_repository_snapshots', "Snapshots kept in the PVC's repository after its newest backup's forget");
  const lastPrune = gauge('backsnap_repository_last_prune_timestamp_seconds', "When the PVC's repository was last pruned (successfully or not)");
  const pruneFailed = gauge('backsnap_repository_prune_failed', "1 when the last prune of the PVC's repository failed");
  const lastCheck = gauge('backsnap_repository_last_check_timestamp_seconds', "When the PVC's repository was last checked");
  const checkFailed = gauge('backsnap_repository_check_failed', "1 when the last check of the PVC's repository found damage");
  const pruneInterval = gauge('backsnap_repository_prune_interval_seconds', 'BACKSNAP_PRUNE_INTERVAL (0: never)', []);
  pruneInterval.set(deps.config.pruneIntervalMs / 1000);
  const running = gauge('backsnap_backups_running', 'Backups running in the cluster', []);
  const overdueCount = gauge('backsnap_pvcs_without_recent_backup', 'PVCs in scope without a successful backup within twice their schedule interval', []);
  const scrapeError = gauge('backsnap_cluster_scrape_error', '1 when the cluster could not be read for the backup metrics', []);

  const authenticated = gauge('backsnap_hook_authentication_enabled', '0 when hook calls are accepted without a bearer token (BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS)', []);
  authenticated.set(deps.config.hookTokens.length > 0 ? 1 : 0);

  const instrumentHooks = (hooks: FastifyInstance): void => {
    // A callback hook, not an async one, and the labelled series looked up once: this runs on
    // every hook call, so its cost is part of the hook's throughput.
    const series = new Map<string, ReturnType<typeof hookDuration.labels>>();
    hooks.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unknown';
      const key = `${reply.statusCode} ${route}`;
      let observed = series.get(key);
      if (observed === undefined) {
        observed = hookDuration.labels({ route, code: String(reply.statusCode) });
        series.set(key, observed);
      }
      observed.observe(reply.elapsedTime / 1000);
      if (reply.statusCode >= 400) hookErrors.inc({ route, code: String(reply.statusCode) });
      done();
    });
  };

  const intervals = scheduleIntervals();
  const registerRoute = (app: FastifyInstance): void => void app.get('/metrics', async (request, reply) => {
    try {
      const state = await readClusterState(deps.cluster());
      const rows: PvcBackupMetrics[] = [];
      let slice = 0;
      for (const row of backupMetrics(state, deps.config, deps.now(), intervals)) {
        rows.push(row);
        // Hook calls share this event loop: let them in between slices of a large cluster.
        if ((slice += 1) === ROWS_PER_SLICE) {
          slice = 0;
          await setImmediatePromise();
        }
      }
      intervals.sweep();
      for (const g of [lastSuccess, lastFailed, lastDuration, interval, invalid, overdue, runningFor, snapshotsKept, lastPrune, pruneFailed, lastCheck, checkFailed]) g.reset();
      for (const row of rows) {
        const labels = { namespace: row.namespace, pvc: row.pvc };
        if (row.lastSuccessSeconds !== undefined) lastSuccess.set(labels, row.lastSuccessSeconds);
        if (row.lastFailed !== undefined) lastFailed.set(labels, row.lastFailed ? 1 : 0);
        if (row.lastDurationSeconds !== undefined) lastDuration.set(labels, row.lastDurationSeconds);
        if (row.intervalSeconds !== undefined) interval.set(labels, row.intervalSeconds);
        invalid.set(labels, row.scheduleInvalid ? 1 : 0);
        overdue.set(labels, row.overdue ? 1 : 0);
        if (row.runningSeconds !== undefined) runningFor.set(labels, row.runningSeconds);
        if (row.snapshotsKept !== undefined) snapshotsKept.set(labels, row.snapshotsKept);
        if (row.lastPrune !== undefined) {
          lastPrune.set(labels, row.lastPrune.seconds);
          pruneFailed.set(labels, row.lastPrune.failed ? 1 : 0);
        }
        if (row.lastCheck !== undefined) {
          lastCheck.set(labels, row.lastCheck.seconds);
          checkFailed.set(labels, row.lastCheck.failed ? 1 : 0);
        }
      }
      running.set(state.backups.filter((b) => b.status?.startedAt !== undefined && b.status.result === undefined).length);
      overdueCount.set(rows.filter((r) => r.overdue).length);
      scrapeError.set(0);
    } catch (error) {
      request.log.error({ err: error }, 'cannot read the cluster for backup metrics');
      scrapeError.set(1);
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return { instrumentHooks, registerRoute, recordDecision: (route, reason) => decisions.inc({ route, reason }) };
}
