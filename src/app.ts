// The service as three HTTP servers on ports of their own, so a NetworkPolicy can admit each
// caller to exactly what it needs: hooks (Metacontroller), operations (the housekeeping CronJob,
// people debugging) and metrics plus probes (Prometheus, kubelet). Built from their dependencies,
// so tests inject the configuration, the clock, the logger and the cluster.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { registerHookRoutes } from './http/hooks.ts';
import { registerOperationRoutes } from './http/operations.ts';
import { createMetrics } from './http/metrics.ts';
import { kubernetesCluster, type Cluster } from './kube/cluster.ts';

export interface AppDeps {
  config: Config;
  logger: FastifyBaseLogger;
  now?: () => Date;
  /** The API server, for housekeeping, metrics and the debug view; connected on first use. */
  cluster?: Cluster | (() => Cluster);
}

export interface Servers {
  /** `/hooks/...`: only Metacontroller calls these (bearer token). */
  hooks: FastifyInstance;
  /** `/v1/housekeeping`, `/debug/schedules` (housekeeping token). */
  operations: FastifyInstance;
  /** `/metrics`, `/healthz`, `/readyz`. */
  metrics: FastifyInstance;
}

function server(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    // One line per decision is logged by the routes; per-request lines would double it. Nor is a
    // child logger made per request (Fastify's default, for a reqId binding): it cost about a third
    // of a hook call's time, and the decision line names its object instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 500) {
      // A bug: Metacontroller backs off and changes nothing; the detail goes to the log only.
      request.log.error({ err: error, url: request.url }, 'request failed');
      return reply.code(500).send({ error: 'internal error, see the service log' });
    }
    request.log.warn({ url: request.url, error: error.message }, 'bad request');
    return reply.code(statusCode).send({ error: error.message });
  });
  return app;
}

export function buildServers(deps: AppDeps): Servers {
  const now = deps.now ?? (() => new Date());
  const given = deps.cluster;
  let cluster = typeof given === 'function' ? undefined : given;
  const clusterOnce = typeof given === 'function' ? given : () => (cluster ??= kubernetesCluster());
  const metrics = createMetrics({ config: deps.config, now, cluster: clusterOnce });

  const hooks = server(deps);
  metrics.instrumentHooks(hooks);
  registerHookRoutes(hooks, { config: deps.config, now, onDecision: metrics.recordDecision });

  const operations = server(deps);
  registerOperationRoutes(operations, { config: deps.config, now, cluster: clusterOnce });

  const metricsServer = server(deps);
  metrics.registerRoute(metricsServer);
  metricsServer.get('/healthz', async () => ({ status: 'ok' }));
  metricsServer.get('/readyz', async () => ({ status: 'ready' }));
  return { hooks, operations, metrics: metricsServer };
}
