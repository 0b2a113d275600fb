// `npm run serve`: browser mode. The real services behind a local HTTP/WebSocket bridge, so the UI
// runs in any Chromium (and Playwright drives it in tests).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Services } from '../services/services.ts';
import { appRoot, defaultConfigDir } from '../services/paths.ts';
import { createHandlers } from '../services/handlers/index.ts';
import { openInitialProject } from '../services/startup.ts';
import { startBridge } from './bridge.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    project: { type: 'string' },
    'no-demo': { type: 'boolean', default: false },
    token: { type: 'string' },
    'config-dir': { type: 'string' },
  },
});

const services = new Services({
  configDir: values['config-dir'] ?? defaultConfigDir(),
  resourcesDir: join(appRoot, 'resources'),
  host: { mode: 'browser', electronVersion: null },
});
const handlers = createHandlers(services);
const bridge = await startBridge(services, handlers, {
  staticDir: join(appRoot, 'out', 'renderer'),
  ...(values.port ? { port: Number(values.port) } : {}),
  ...(values.token ? { token: values.token } : {}),
});
// Printed first and alone on its line: tests and scripts read it.
console.log(`Kensa is running in browser mode: ${bridge.url}`);
const { warning } = await openInitialProject(services, { projectDir: values.project, demo: !values['no-demo'] });
if (warning) console.warn(warning);
const project = services.projects.info();
console.log(project ? `Project: ${project.name} (${project.dir})` : 'No project open.');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await bridge.close();
  await services.dispose();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
