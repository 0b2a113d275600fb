// `npm run bench -- <name> [args…]`: runs bench/<name>.ts on the pinned Node. Each bench prints its
// figures side by side and ends with one JSON line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(join(dir, `${name}.ts`))) {
  console.error(`Usage: npm run bench -- <name>\nBenches: ${available.join(', ')}`);
  process.exit(name ? 1 : 0);
}
const r = spawnSync(process.execPath, ['--expose-gc', join(dir, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
