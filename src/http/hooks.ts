// Hook routes: parse, call the pure hook with the configuration and the clock, serialize, and log
// one line per decision. Nothing here decides anything.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { KubeObject } from '../kube/types.ts';
import type { HookResult } from '../metacontroller/hook.ts';
import { customizeBackup } from '../backup/customize.ts';
import { syncBackupLabels } from '../backup/labels-hook.ts';
import { syncBackup } from '../backup/sync.ts';
import type { PVCBackup } from '../backup/types.ts';
import { customizeRestore } from '../restore/customize.ts';
import { syncRestore } from '../restore/sync.ts';
import type { PVCRestore } from '../restore/types.ts';
import type { CompositeSyncRequest, CustomizeRequest, DecoratorSyncRequest } from '../metacontroller/types.ts';
import type { Namespace, PersistentVolumeClaim } from '../kube/types.ts';
import { customizeBackupQueue, syncBackupQueue } from '../backup/queue-hook.ts';
import { customizeScheduler, syncScheduler } from '../schedule/decorator.ts';
import { describeErrors, validateCompositeSync, validateCustomize, validateDecoratorSync } from './envelope.ts';
import { bearerChecker } from './auth.ts';

export interface HookDeps {
  config: Config;
  now: () => Date;
  onDecision?: (route: string, reason: string) => void;
}

type Validator = typeof validateCustomize;

interface HookRoute {
  path: string;
  kind: string;
  validate: Validator;
  /** The object the hook is about, for the kind check and the log line. */
  subject: (body: never) => KubeObject;
  run: (body: never, deps: HookDeps) => HookResult<unknown>;
}

const parentOf = (body: { parent: KubeObject }) => body.parent;
const objectOf = (body: { object: KubeObject }) => body.object;

export const HOOK_ROUTES: readonly HookRoute[] = [
  { path: '/hooks/pvcbackup/sync', kind: 'PVCBackup', validate: validateCompositeSync, subject: parentOf, run: (b: CompositeSyncRequest<PVCBackup>, d) => syncBackup(b, d.config, d.now()) },
  { path: '/hooks/pvcbackup/customize', kind: 'PVCBackup', validate: validateCustomize, subject: parentOf, run: (b: CustomizeRequest<PVCBackup>) => customizeBackup(b) },
  { path: '/hooks/pvcrestore/sync', kind: 'PVCRestore', validate: validateCompositeSync, subject: parentOf, run: (b: CompositeSyncRequest<PVCRestore>, d) => syncRestore(b, d.config, d.now()) },
  { path: '/hooks/pvcrestore/customize', kind: 'PVCRestore', validate: validateCustomize, subject: parentOf, run: (b: CustomizeRequest<PVCRestore>) => customizeRestore(b) },
  { path: '/hooks/scheduler/sync', kind: 'PersistentVolumeClaim', validate: validateDecoratorSync, subject: objectOf, run: (b: DecoratorSyncRequest<PersistentVolumeClaim>, d) => syncScheduler(b, d.config, d.now()) },
  { path: '/hooks/pvcbackup-labels/sync', kind: 'PVCBackup', validate: validateDecoratorSync, subject: objectOf, run: (b: DecoratorSyncRequest<PVCBackup>) => syncBackupLabels(b) },
  { path: '/hooks/backup-queue/sync', kind: 'Namespace', validate: validateDecoratorSync, subject: objectOf, run: (b: DecoratorSyncRequest<Namespace>, d) => syncBackupQueue(b, d.config) },
  { path: '/hooks/backup-queue/customize', kind: 'Namespace', validate: validateCustomize, subject: parentOf, run: (b: CustomizeRequest<Namespace>) => customizeBackupQueue(b) },
  { path: '/hooks/scheduler/customize', kind: 'PersistentVolumeClaim', validate: validateCustomize, subject: parentOf, run: (b: CustomizeRequest<PersistentVolumeClaim>) => customizeScheduler(b) },
];

export function registerHookRoutes(app: FastifyInstance, deps: HookDeps, routes: readonly HookRoute[] = HOOK_ROUTES): void {
  // Empty only with the explicit opt-out BACKSNAP_INSECURE_UNAUTHENTICATED_HOOKS (config.ts).
  const tokens = deps.config.hookTokens;
  const authorized = bearerChecker(tokens);
  for (const route of routes) {
    app.post(route.path, async (request, reply) => {
      if (tokens.length > 0 && !authorized(request.headers.authorization)) {
        request.log.warn({ hook: route.path }, 'hook call without the expected bearer token');
        return reply.code(401).send({ error: 'missing or wrong bearer token' });
      }
      if (!route.validate(request.body)) {
        const message = describeErrors(route.validate.errors);
        request.log.warn({ hook: route.path, error: message }, 'malformed hook request');
        return reply.code(400).send({ error: message });
      }
      const subject = route.subject(request.body as never);
      if (subject.kind !== route.kind) {
        const message = `this hook serves ${route.kind}, not ${subject.kind}`;
        request.log.warn({ hook: route.path, error: message }, 'hook called for the wrong kind');
        return reply.code(400).send({ error: message });
      }
      const started = performance.now();
      const result = route.run(request.body as never, deps);
      deps.onDecision?.(route.path, result.decision.reason);
      request.log.info(
        {
          hook: route.path,
          object: `${subject.metadata.namespace ?? ''}/${subject.metadata.name}`,
          ...result.decision,
          ms: Math.round((performance.now() - started) * 100) / 100,
          bytes: Number(request.headers['content-length'] ?? 0),
        },
        'decision',
      );
      return reply.send(result.response);
    });
  }
}
