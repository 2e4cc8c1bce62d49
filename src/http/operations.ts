// Operator endpoints that read or change the cluster: POST /v1/housekeeping (called by a CronJob)
// and GET /debug/schedules. Both need the housekeeping bearer token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { readClusterState, type Cluster } from '../kube/cluster.ts';
import { runHousekeeping } from '../housekeeping/run.ts';
import { scheduleReport } from '../schedule/report.ts';
import { bearerChecker } from './auth.ts';

export interface OperationsDeps {
  config: Config;
  now: () => Date;
  cluster: () => Cluster;
}

function authorized(request: FastifyRequest, reply: FastifyReply, config: Config, matches: (header: string | undefined) => boolean): boolean {
  if (config.housekeepingToken === undefined) {
    void reply.code(503).send({ error: 'disabled: set BACKSNAP_HOUSEKEEPING_TOKEN to enable this endpoint' });
    return false;
  }
  if (!matches(request.headers.authorization)) {
    void reply.code(401).send({ error: 'missing or wrong bearer token' });
    return false;
  }
  return true;
}

export function registerOperationRoutes(app: FastifyInstance, deps: OperationsDeps): void {
  const matches = bearerChecker(deps.config.housekeepingToken === undefined ? [] : [deps.config.housekeepingToken]);
  app.post('/v1/housekeeping', async (request, reply) => {
    if (!authorized(request, reply, deps.config, matches)) return reply;
    const summary = await runHousekeeping(deps.cluster(), deps.config, deps.now());
    request.log.info({ deleted: summary.deleted.length, created: summary.created.length, alreadyGone: summary.alreadyGone, kept: summary.kept.length }, 'housekeeping');
    for (const d of summary.deleted) request.log.info({ kind: d.kind, object: `${d.namespace}/${d.name}`, reason: d.reason }, 'housekeeping deleted');
    for (const c of summary.created) request.log.warn({ object: `${c.namespace}/${c.name}`, pvc: c.pvc }, 'housekeeping created an overdue automatic backup: is the scheduler (DecoratorController) working?');
    return reply.send(summary);
  });
  app.get('/debug/schedules', async (request, reply) => {
    if (!authorized(request, reply, deps.config, matches)) return reply;
    const state = await readClusterState(deps.cluster());
    return reply.send({ now: deps.now().toISOString(), pvcs: scheduleReport(state, deps.config, deps.now()) });
  });
}
