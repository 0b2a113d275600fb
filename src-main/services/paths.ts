import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository / app root (two levels above this file in the source tree). */
export const appRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Per-user folder for settings and the demo project. KENSA_HOME overrides it (tests, portable
 * installs); Electron passes app.getPath('userData').
 */
export function defaultConfigDir(): string {
  if (process.env.KENSA_HOME) return resolve(process.env.KENSA_HOME);
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Kensa');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Kensa');
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'kensa');
}

/**
 * Folders searched for pretrained weights, most specific first: the user's own, the packaged
 * app's resources/models, and (in a development checkout) ../shared/models beside the repo.
 */
export function builtInWeightsDirs(resourcesDir: string): string[] {
  return [join(resourcesDir, 'models'), resolve(appRoot, '..', 'shared', 'models')];
}
