import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { RunningServer } from './server.ts';

/** Calls an API operation on a browser-mode server the way the UI does (token header, envelope). */
export async function apiCall<T>(server: RunningServer, op: string, ...args: unknown[]): Promise<T> {
  const res = await fetch(`${server.origin}/api/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-kensa-token': server.token },
    body: JSON.stringify(args),
  });
  const env = (await res.json()) as { ok: boolean; value: T; error?: { name: string; message: string } };
  if (!env.ok) throw new Error(`${op}: ${env.error?.name} ${env.error?.message}`);
  return env.value;
}

/** Polls until a task has finished (succeeded, failed or cancelled). */
export async function waitForTask(server: RunningServer, id: string): Promise<{ state: string }> {
  for (;;) {
    const t = (await apiCall<{ id: string; state: string }[]>(server, 'listTasks')).find((x) => x.id === id);
    if (t && !['queued', 'running'].includes(t.state)) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Switches the UI language through the settings API and waits for the page to follow. */
export async function switchLanguage(server: RunningServer, page: Page, lang: 'en' | 'ja'): Promise<void> {
  await apiCall(server, 'updateSettings', { language: lang });
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
}

/** NEU-DET images beside the repository (../shared), used as small real photos in e2e tests. */
export const NEU_IMAGES = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');

/**
 * Writes `count` 64 px crops of each NEU class into `<dir>/<folder>/`, one folder per label
 * (folder name → NEU class), ready for an import with labels from folders.
 */
export async function writeNeuCrops(dir: string, folders: Record<string, string>, count: number): Promise<void> {
  for (const [folder, cls] of Object.entries(folders)) {
    mkdirSync(join(dir, folder), { recursive: true });
    for (let i = 1; i <= count; i++)
      await sharp(join(NEU_IMAGES, cls, `${cls}_${i}.jpg`))
        .resize(64, 64)
        .jpeg()
        .toFile(join(dir, folder, `${cls}_${i}.jpg`));
  }
}

/**
 * A project named "Line 3" of NEU crops (see {@link writeNeuCrops}) imported with labels from folders, as most
 * specs start: writes the crops under `<server.tmp>/photos`, creates the project, imports and waits.
 */
export async function createNeuProject(server: RunningServer, folders: Record<string, string>, count: number): Promise<void> {
  const src = join(server.tmp, 'photos');
  await writeNeuCrops(src, folders, count);
  await apiCall(server, 'createProject', join(server.tmp, 'project'), 'Line 3');
  const snap = await apiCall<{ id: string }>(server, 'startImport', { paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
}

/**
 * Starts training runs (queued one after another by the server), waits until all have succeeded and returns their
 * run ids in order.
 */
export async function trainRuns(server: RunningServer, configs: Record<string, unknown>[]): Promise<number[]> {
  const started: { id: string; runId: number }[] = [];
  for (const config of configs) started.push(await apiCall<{ id: string; runId: number }>(server, 'startTraining', config));
  for (const s of started) expect((await waitForTask(server, s.id)).state).toBe('succeeded');
  return started.map((s) => s.runId);
}
