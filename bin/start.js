#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary is installed; otherwise browser mode, saying why.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const bin = join(root, 'node_modules', '.bin');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });

function electronBinary() {
  try {
    const dir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(dir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const exe = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

const build = run(join(bin, 'electron-vite'), ['build']);
if (build.status !== 0) process.exit(build.status ?? 1);

const electron = electronBinary();
if (electron) {
  const r = run(electron, [root, ...process.argv.slice(2)]);
  process.exit(r.status ?? 0);
}
console.log(
  'The Electron binary is not installed (it was skipped with ELECTRON_SKIP_BINARY_DOWNLOAD or its download failed),\n' +
    'so Kensa starts in browser mode: open the address below in Chrome or Edge.\n' +
    'To get the desktop window: ELECTRON_SKIP_BINARY_DOWNLOAD= npm rebuild electron (needs network access).',
);
const r = run(process.execPath, [join(root, 'src-main', 'server', 'serve.ts'), ...process.argv.slice(2)]);
process.exit(r.status ?? 0);
