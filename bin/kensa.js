#!/usr/bin/env node
// The `kensa` CLI. Runs the TypeScript sources directly (Node >= 22.18 strips types).
import { main } from '../src-main/cli/index.ts';

const code = await main(process.argv.slice(2));
// TensorFlow's wasm backend keeps worker threads alive; a finished command must still end.
// Exit once stdout has drained (pipes are asynchronous on Windows).
process.stdout.write('', () => process.exit(code));
