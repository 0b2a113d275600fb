import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RunningServer {
  url: string;
  origin: string;
  token: string;
  configDir: string;
  tmp: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '..', '..');

/** Starts browser mode (`src-main/server/serve.ts`) on a free port with its own config folder. */
export async function startServer(args: string[] = [], opts: { tmp?: string } = {}): Promise<RunningServer> {
  const tmp = opts.tmp ?? mkdtempSync(join(tmpdir(), 'kensa-e2e-'));
  const configDir = join(tmp, 'config');
  const proc = spawn(process.execPath, [join(root, 'src-main/server/serve.ts'), '--config-dir', configDir, ...args], {
    cwd: root,
    env: { ...process.env, KENSA_HOME: configDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /browser mode: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token') ?? '',
    configDir,
    tmp,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      if (!opts.tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}
