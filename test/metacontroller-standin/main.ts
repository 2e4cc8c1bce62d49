// CLI: npx node test/metacontroller-standin/main.ts --kubeconfig PATH [--apply-crds] [--poll-interval-ms N]
// Runs the Metacontroller stand-in until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { applyMetacontrollerStandinCrds } from './crds.ts';
import { startMetacontrollerStandin } from './standin.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'apply-crds': { type: 'boolean', default: false },
    'poll-interval-ms': { type: 'string' },
  },
});
const kubeconfigPath = values.kubeconfig ?? process.env['KUBECONFIG'];
if (kubeconfigPath === undefined) {
  console.error('usage: main.ts --kubeconfig PATH [--apply-crds] [--poll-interval-ms N]');
  process.exit(2);
}
if (values['apply-crds']) await applyMetacontrollerStandinCrds(kubeconfigPath);
const pollIntervalMs = values['poll-interval-ms'] === undefined ? undefined : Number(values['poll-interval-ms']);
const standin = await startMetacontrollerStandin({ kubeconfigPath, ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void standin.stop().then(() => process.exit(0));
  });
}
