#!/usr/bin/env node
// One-command developer set-up. Runs on whatever Node is installed (18+), then does everything
// under the pinned Node 22 that `npm test`, `npm start` and CI use, so that native modules
// (better-sqlite3) are compiled for the same ABI they run on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, delimiter } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/^\/([A-Za-z]:)/, '$1');
const isWin = process.platform === 'win32';
const npm = isWin ? 'npm.cmd' : 'npm';
const bin = join(root, 'node_modules', '.bin');
const baseEnv = {
  ...process.env,
  ELECTRON_SKIP_BINARY_DOWNLOAD: process.env.ELECTRON_SKIP_BINARY_DOWNLOAD ?? (process.env.CI ? '1' : ''),
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
};

function run(args, env, { optional = false, timeoutMs } = {}) {
  console.log(`\n$ npm ${args.join(' ')}`);
  const r = spawnSync(npm, args, { cwd: root, env, stdio: 'inherit', shell: isWin, timeout: timeoutMs });
  if (r.status !== 0) {
    if (optional) {
      console.warn(`(optional step failed with ${r.status ?? r.signal}; Kensa will report this at run time)`);
      return false;
    }
    console.error(`setup failed: npm ${args.join(' ')} exited with ${r.status ?? r.signal}`);
    process.exit(1);
  }
  return true;
}

// 1. Fetch every package without running any install script: this brings the pinned Node
//    (the `node` package) into node_modules/.bin.
run([existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund'], baseEnv);

// 2. Run the install scripts under the pinned Node, against its own headers.
const headerPkg = join(root, 'node_modules', `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`);
const nested = join(root, 'node_modules', 'node', 'node_modules', `node-${isWin ? 'win' : process.platform}-${process.arch}`);
const nodedir = existsSync(nested) ? nested : headerPkg;
const env22 = {
  ...baseEnv,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  npm_config_nodedir: nodedir,
};
run(['rebuild', 'node'], env22, { optional: true });
run(['rebuild', 'esbuild', 'better-sqlite3', 'electron'], env22);

// 3. TensorFlow's native backends download libtensorflow at install; without network or CUDA they
//    fail. They are optional: Kensa detects at run time which backend loads and says why others don't.
for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
  if (existsSync(join(root, 'node_modules', ...pkg.split('/')))) {
    run(['rebuild', pkg], env22, { optional: true, timeoutMs: 10 * 60_000 });
  }
}
console.log('\nKensa is set up. `npm start` runs the app, `npm test` runs every test.');
