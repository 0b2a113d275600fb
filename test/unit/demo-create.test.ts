/**
 * The demo project (catalog/demo/create.ts): made once in the config folder, filled by a background task that marks it
 * complete, not filled again on the next open, and a generation cut short by closing the project is stopped first and
 * resumed on the next open.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoProjectDir, openDemoProject, type DemoDeps } from '../../src-main/services/library/demo/create.ts';
import { populateDemoProject } from '../../src-main/services/library/demo/populate.ts';
import { CATALOG_FILE } from '../../src-main/services/projects/project.ts';
import { Services } from '../../src-main/services/services.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-demo-create-'));
const services: Services[] = [];

function makeServices(name: string): Services {
  const s = new Services({
    configDir: join(tmp, name),
    resourcesDir: join(tmp, 'resources'),
    host: { mode: 'cli', electronVersion: null },
  });
  services.push(s);
  return s;
}

afterAll(async () => {
  for (const s of services) await s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('demo project', () => {
  it('is created in the config folder, generated once in a task, and not generated again', async () => {
    const s = makeServices('a');
    let fills = 0;
    const deps: DemoDeps = {
      configDir: s.configDir,
      projects: s.projects,
      tasks: s.tasks,
      events: s.events,
      populate: (p, o) => {
        fills++;
        return populateDemoProject(s, p, { ...o, count: 6 });
      },
    };
    const events: unknown[] = [];
    s.events.on('project', (e) => events.push(e));
    const project = await openDemoProject(deps);
    expect(project.dir).toBe(demoProjectDir(s.configDir));
    expect(existsSync(join(project.dir, CATALOG_FILE))).toBe(true);
    expect(project.info().isDemo).toBe(true);
    const task = s.tasks.list().find((t) => t.kind === 'demo')!;
    const done = await s.tasks.wait(task.id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toEqual({ imported: 6 });
    expect(project.meta('demo_populated')).toBe('1');
    expect(events.length).toBeGreaterThan(0);

    await s.projects.close();
    const again = await openDemoProject(deps);
    expect(again.dir).toBe(project.dir);
    expect(fills).toBe(1);
    expect(s.tasks.list().filter((t) => t.kind === 'demo')).toHaveLength(1);
  }, 60_000);

  it('stops a generation when the project closes and resumes it on the next open', async () => {
    const s = makeServices('b');
    let started = 0;
    const deps: DemoDeps = {
      configDir: s.configDir,
      projects: s.projects,
      tasks: s.tasks,
      events: s.events,
      // Never finishes on its own: only the task's signal ends it.
      populate: (_p, o) =>
        new Promise((_resolve, reject) => {
          started++;
          o.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error));
        }),
    };
    const project = await openDemoProject(deps);
    const task = s.tasks.list().find((t) => t.kind === 'demo')!;
    await new Promise((r) => setTimeout(r, 50));
    await s.projects.close();
    expect(s.tasks.get(task.id).state).toBe('cancelled');
    expect(project.isOpen).toBe(false);
    await openDemoProject(deps);
    expect(s.tasks.list().filter((t) => t.kind === 'demo')).toHaveLength(2);
    expect(started).toBe(2);
  });
});
