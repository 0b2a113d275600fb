// Fails fast when tests run on another Node than the pinned one (native modules and Vitest need 22).
import { readFileSync } from 'node:fs';

const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
if (process.versions.node !== pinned) {
  console.error(`Kensa is developed and tested on Node ${pinned}, but this is Node ${process.versions.node}.`);
  console.error('Run `npm run setup` (it installs the pinned Node into node_modules) and use npm scripts.');
  process.exit(1);
}
