/**
 * The composition root (Services' constructor): the engine is a service of its own, started through the launcher the
 * host gives the root (Electron's utilityProcess in the app; a scripted stand-in here, so no TensorFlow loads), shared
 * by the domains built on it, restarted after a crash and stopped by dispose. The engine-crash hook is in-process only,
 * and no module keeps per-Services state of its own.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiOperations } from '../../src-main/shared/api/index.ts';
import type { BackendReport } from '../../src-main/shared/types.ts';
import type { ChildLike, EngineLauncher } from '../../src-main/services/engine/client.ts';
import type { FromEngine, ToEngine } from '../../src-main/services/engine/protocol.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-root-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const REPORT: BackendReport = { training: 'cpu', inference: 'cpu', candidates: [], checkedAt: '2026-01-01T00:00:00.000Z' };

/** An engine process stand-in: answers 'ready', then every 'estimate' job, and exits the way it is told to. */
class ScriptedEngine implements ChildLike {
  readonly pid = 4242;
  readonly received: ToEngine[] = [];
  /** The next job makes the process die instead of answering (a native crash). */
  dieOnNextJob = false;
  private messageFns: ((msg: unknown) => void)[] = [];
  private exitFns: ((code: number | null, signal?: string | null) => void)[] = [];
  private exited = false;

  constructor() {
    setImmediate(() => this.send({ type: 'ready', pid: this.pid, report: REPORT, backends: { training: 'cpu', inference: 'cpu' } }));
  }

  postMessage(raw: unknown): void {
    const msg = raw as ToEngine;
    this.received.push(msg);
    if (msg.type === 'shutdown') this.exit(0, null);
    else if (msg.type === 'crash') this.exit(70, null);
    else if (msg.type === 'start' && this.dieOnNextJob) setImmediate(() => this.exit(null, 'SIGSEGV'));
    else if (msg.type === 'start') setImmediate(() => this.send({ type: 'result', jobId: msg.jobId, result: { totalSeconds: 12 } }));
  }

  on(event: 'message' | 'exit', fn: (...a: never[]) => void): void {
    if (event === 'message') this.messageFns.push(fn as (msg: unknown) => void);
    else this.exitFns.push(fn as (code: number | null, signal?: string | null) => void);
  }

  kill(): void {
    this.exit(null, 'SIGKILL');
  }

  private send(msg: FromEngine): void {
    if (!this.exited) for (const f of this.messageFns) f(msg);
  }

  private exit(code: number | null, signal: string | null): void {
    if (this.exited) return;
    this.exited = true;
    for (const f of this.exitFns) f(code, signal);
  }
}

function servicesWithScriptedEngine(name: string) {
  const engines: ScriptedEngine[] = [];
  const entries: string[] = [];
  const engineLauncher: EngineLauncher = (entryPath) => {
    entries.push(entryPath);
    const e = new ScriptedEngine();
    engines.push(e);
    return e;
  };
  const s = new Services({
    configDir: join(tmp, name, 'config'),
    resourcesDir: join(tmp, name, 'res'),
    host: { mode: 'cli', electronVersion: null },
    engineLauncher,
  });
  return { s, engines, entries };
}

describe('composition root', () => {
  it('starts the engine through the launcher the host gave the root, on the first job, and reports its backend', async () => {
    const { s, engines, entries } = servicesWithScriptedEngine('start');
    const backendEvents: BackendReport[] = [];
    s.events.on('backend', (r) => backendEvents.push(r));
    expect(engines).toHaveLength(0);
    // Training reaches the engine it was given: its estimate is the engine's answer, on the engine's backends.
    const est = await s.training.estimate({});
    expect(est.totalSeconds).toBe(12);
    expect(est.backend).toEqual({ training: 'cpu', inference: 'cpu' });
    expect(engines).toHaveLength(1);
    expect(entries[0]).toMatch(/engine[\\/]main\.ts$/);
    expect(backendEvents).toEqual([REPORT]);
    // Once the engine runs, its own report answers (no probe process).
    expect(await s.engine.backendReport()).toEqual(REPORT);
    await s.training.estimate({});
    expect(s.engine.starts).toBe(1);
    await s.dispose();
    expect(engines[0]!.received.at(-1)).toEqual({ type: 'shutdown' });
  });

  it('fails the job in flight when the engine dies and starts a fresh engine for the next job', async () => {
    const { s, engines } = servicesWithScriptedEngine('crash');
    await s.engine.ensureStarted();
    engines[0]!.dieOnNextJob = true;
    await expect(s.training.estimate({})).rejects.toMatchObject({ name: 'EngineCrashedError' });
    expect(s.engine.crashes).toBe(1);
    expect((await s.training.estimate({})).totalSeconds).toBe(12);
    expect(engines).toHaveLength(2);
    expect(s.engine.starts).toBe(2);
    await s.dispose();
  });

  it('the crash hook is in-process only: the engine exits, and no operation of the contract reaches it', async () => {
    const { s, engines } = servicesWithScriptedEngine('hook');
    await s.engine.ensureStarted();
    await s.engine.crashForTest();
    expect(engines[0]!.received).toEqual([{ type: 'crash' }]);
    expect(s.engine.starts).toBe(1);
    const ops: readonly string[] = apiOperations;
    expect(ops.filter((op) => /crash/i.test(op))).toEqual([]);
    expect(Object.keys(createHandlers(s)).filter((op) => /crash/i.test(op))).toEqual([]);
    await s.dispose();
  });

  it('no module keeps a registry keyed by Services: the root built every domain, media kinds included', async () => {
    const root = resolve(import.meta.dirname, '../../src-main');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && /Weak(Map|Set)<\s*Services\b/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
    // Before any handler exists, each domain has registered its media kinds (the resolvers answer, refusing these ids).
    const s = new Services({
      configDir: join(tmp, 'domains', 'config'),
      resourcesDir: join(tmp, 'res'),
      host: { mode: 'cli', electronVersion: null },
    });
    for (const kind of ['thumb', 'image', 'heatmap', 'file', 'inspect-heatmap']) {
      const err = await s.resolveMedia(kind, 'x').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).not.toMatch(/No media of kind/);
    }
    await expect(s.resolveMedia('nosuch', 'x')).rejects.toThrow(/No media of kind/);
    await s.dispose();
  });
});
