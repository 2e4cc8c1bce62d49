// Which schedule applies to a PVC, exactly as backsnap decides: the PVC's annotation, else its
// Namespace's, else the operator default. An annotation that is present but empty disables.
import { namespaceInScope, type Config } from '../config.ts';
import type { Namespace, PersistentVolumeClaim } from '../kube/types.ts';
import { SCHEDULE_ANNOTATION } from '../labels.ts';

export type ScheduleSource = 'pvc' | 'namespace' | 'default';

export type ScheduleChoice =
  | { enabled: true; expression: string; source: ScheduleSource }
  | { enabled: false; reason: string; source?: ScheduleSource };

export function chooseSchedule(pvc: PersistentVolumeClaim, namespace: Namespace | undefined, config: Config): ScheduleChoice {
  if (config.manual) return { enabled: false, reason: 'manual mode: the operator makes no automatic backups' };
  const ns = pvc.metadata.namespace ?? '';
  if (!namespaceInScope(config, ns)) return { enabled: false, reason: `namespace ${ns} is not in the operator's namespaces` };
  const own = pvc.metadata.annotations?.[SCHEDULE_ANNOTATION];
  const inherited = namespace?.metadata.annotations?.[SCHEDULE_ANNOTATION];
  const [expression, source]: [string, ScheduleSource] =
    own !== undefined ? [own, 'pvc'] : inherited !== undefined ? [inherited, 'namespace'] : [config.defaultSchedule, 'default'];
  if (expression.trim() === '') return { enabled: false, reason: `the ${source} schedule is empty (no automatic backups)`, source };
  return { enabled: true, expression: expression.trim(), source };
}
