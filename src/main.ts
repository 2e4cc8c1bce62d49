// Entry point: validate the configuration (exit with a clear message if it is wrong), listen,
// and shut down gracefully on SIGTERM/SIGINT (in-flight hook calls finish, new ones get 503).
import { buildServers } from './app.ts';
import { CONFIG_VARIABLES, parseConfig } from './config.ts';
import { startNudger, type Nudger } from './housekeeping/nudger.ts';
import { kubernetesCluster, type KubernetesCluster } from './kube/cluster.ts';
import { createLogger } from './logger.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  process.stderr.write(`backsnap-ts: invalid configuration:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.stderr.write(`Variables: ${CONFIG_VARIABLES.map((v) => v.name).join(', ')} (see README).\n`);
  process.exit(2);
}
const config = parsed.config;
const logger = createLogger(config.logLevel);
// Connected on first use, so the service starts (and answers hooks) without API access.
let cluster: KubernetesCluster | undefined;
const clusterOnce = (): KubernetesCluster => (cluster ??= kubernetesCluster(undefined, (error) => logger.warn({ err: error }, 'watch of the cluster failed; retrying')));
const servers = buildServers({ config, logger, cluster: clusterOnce });

let nudger: Nudger | undefined;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const forced = setTimeout(() => {
    logger.error('graceful shutdown timed out');
    process.exit(1);
  }, 10_000);
  forced.unref();
  nudger?.stop();
  cluster?.stop();
  await Promise.all([servers.hooks.close(), servers.operations.close(), servers.metrics.close()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

if (config.hookTokens.length === 0) {
  logger.warn('HOOK AUTHENTICATION IS OFF (BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS=true): anyone who reaches the hook port can read the repository credentials');
}
await servers.hooks.listen({ host: config.listenHost, port: config.port });
await servers.operations.listen({ host: config.listenHost, port: config.operationsPort });
await servers.metrics.listen({ host: config.listenHost, port: config.metricsPort });
nudger = startNudger(clusterOnce, config, logger, () => new Date());
logger.info({ repository: config.repositoryBase, maxRunningBackups: config.maxRunningBackups }, 'backsnap-ts ready');
