// CLI of the node agent: npx node test/node-agent/main.ts --kubeconfig FILE --data-dir DIR --csi-socket PATH [--images-dir DIR]
import { parseArgs } from 'node:util';
import { cacheImagesDir } from '../env/controlplane.ts';
import { startNodeAgent } from './agent.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'data-dir': { type: 'string' },
    'images-dir': { type: 'string' },
    'csi-socket': { type: 'string' },
    'node-name': { type: 'string' },
  },
});
const kubeconfigPath = values.kubeconfig;
const dataDir = values['data-dir'];
const csiSocket = values['csi-socket'];
if (kubeconfigPath === undefined || dataDir === undefined || csiSocket === undefined) {
  console.error('usage: main.ts --kubeconfig FILE --data-dir DIR --csi-socket PATH [--images-dir DIR] [--node-name NAME]');
  process.exit(2);
}
const agent = await startNodeAgent({
  kubeconfigPath,
  dataDir,
  imagesDir: values['images-dir'] ?? cacheImagesDir(),
  csiSocket,
  ...(values['node-name'] === undefined ? {} : { nodeName: values['node-name'] }),
  log: (line) => console.log(`${new Date().toISOString()} ${line}`),
});
const shutdown = (): void => {
  agent.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
