// `npx kensa <command>`: the same services as the app, headless.
import { join } from 'node:path';
import { serializeError } from '../shared/errors.ts';
import { appRoot, defaultConfigDir } from '../services/paths.ts';
import { Services } from '../services/services.ts';
import type { CliCommand, CliIo } from './command.ts';
import { commands } from './commands/index.ts';

export async function main(argv: string[]): Promise<number> {
  let services: Services | null = null;
  const io: CliIo = {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    services: () =>
      (services ??= new Services({
        configDir: defaultConfigDir(),
        resourcesDir: join(appRoot, 'resources'),
        host: { mode: 'cli', electronVersion: null },
      })),
  };
  const [name, ...rest] = argv;
  const byName = new Map<string, CliCommand>(commands.map((c) => [c.name, c]));
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out('Usage: kensa <command> [options]\n\nCommands:');
    for (const c of commands) io.out(`  ${c.name.padEnd(14)} ${c.summary}`);
    io.out('\nRun `kensa <command> --help` for its options.');
    return 0;
  }
  const cmd = byName.get(name);
  if (!cmd) {
    io.err(`Unknown command: ${name}. Run \`kensa help\`.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: ${cmd.usage}\n\n${cmd.summary}`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    const e = serializeError(err);
    if (rest.includes('--json')) io.out(JSON.stringify({ ok: false, error: e }));
    io.err(`${e.name}: ${e.message}`);
    return 1;
  } finally {
    await (services as Services | null)?.dispose();
  }
}
