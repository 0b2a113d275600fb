import type { Services } from '../services/services.ts';

/** One `kensa <name>` command. `run` returns the process exit code. */
export interface CliCommand {
  name: string;
  /** One line for `kensa help`. */
  summary: string;
  usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Services for a headless process (host mode 'cli'); created on first use. */
  services(): Services;
}
