import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project } from '../../src-main/services/projects/project.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();
const kensa = (args: string[], home: string) =>
  spawnSync(process.execPath, [join(process.cwd(), 'bin/kensa.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, KENSA_HOME: home },
    timeout: 60_000,
  });

describe('kensa doctor', () => {
  it('reports the backend in use, each backend passed over with its reason, and the weights found', () => {
    const r = kensa(['doctor', '--json'], tmp());
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      node: string;
      backend: { training: string; inference: string; candidates: { name: string; available: boolean; reason: string }[] };
      models: { dir: string; models: string[] }[];
    };
    expect(report.node).toBe(process.versions.node);
    expect(report.backend.candidates.map((c) => c.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    for (const c of report.backend.candidates) expect(c.reason.length).toBeGreaterThan(3);
    const chosen = report.backend.candidates.find((c) => c.name === report.backend.inference);
    expect(chosen?.available).toBe(true);
    // Every backend better than the chosen one is unavailable, and says why.
    const order = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];
    for (const c of report.backend.candidates.slice(0, order.indexOf(report.backend.inference))) expect(c.available).toBe(false);
    expect(report.models.flatMap((m) => m.models)).toContain('mobilenet_v1_0.25_224');
  });

  it('prints a readable report and checks a project', () => {
    const home = tmp();
    const dir = join(home, 'proj');
    Project.create(dir, 'Line 7').close();
    const r = kensa(['doctor', '--project', dir], home);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Training backend: \S+/);
    expect(r.stdout).toMatch(/Line 7/);
    const bad = kensa(['doctor', '--project', join(home, 'missing')], home);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/ProjectNotFoundError/);
  });
});
