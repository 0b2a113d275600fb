#!/usr/bin/env node
// The `kensa` CLI. Runs the TypeScript sources directly (Node >= 22.18 strips types).
import { main } from '../src-main/cli/index.ts';

process.exitCode = await main(process.argv.slice(2));
