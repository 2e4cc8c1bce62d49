// The Fastify service: hook routes plus health endpoints. Built from its dependencies, so tests
// inject the configuration, the clock and the logger.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { registerHookRoutes } from './http/hooks.ts';
import { registerOperationRoutes } from './http/operations.ts';
import { registerMetrics } from './http/metrics.ts';
import { kubernetesCluster, type Cluster } from './kube/cluster.ts';

export interface AppDeps {
  config: Config;
  logger: FastifyBaseLogger;
  now?: () => Date;
  /** The API server, for housekeeping and the debug view; connected on first use. */
  cluster?: Cluster | (() => Cluster);
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    // One line per decision is logged by the routes; per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 500) {
      // A bug: Metacontroller backs off and changes nothing; the detail goes to the log only.
      request.log.error({ err: error, url: request.url }, 'hook failed');
      return reply.code(500).send({ error: 'internal error, see the service log' });
    }
    request.log.warn({ url: request.url, error: error.message }, 'bad request');
    return reply.code(statusCode).send({ error: error.message });
  });
  const now = deps.now ?? (() => new Date());
  const given = deps.cluster;
  let cluster = typeof given === 'function' ? undefined : given;
  const clusterOnce = typeof given === 'function' ? given : () => (cluster ??= kubernetesCluster());
  const onDecision = registerMetrics(app, { config: deps.config, now, cluster: clusterOnce });
  registerHookRoutes(app, { config: deps.config, now, onDecision });
  registerOperationRoutes(app, { config: deps.config, now, cluster: clusterOnce });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({ status: 'ready' }));
  return app;
}
