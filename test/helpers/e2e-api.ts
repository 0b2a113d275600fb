import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { apiOperations, type KensaApi, type OperationName, type OpArgs, type OpResult } from '../../src-main/shared/api/index.ts';
import { deserializeError, type Envelope } from '../../src-main/shared/errors.ts';
import type { TaskSnapshot } from '../../src-main/shared/types.ts';
import type { TrainConfigInput } from '../../src-main/shared/training-types.ts';
import type { RunningServer } from './server.ts';

/**
 * The contract as a spec calls it, typed against `KensaApi`: `await api.listRuns()` or `await api.call('listRuns')`,
 * with the operation's real parameter and result types. A refused call (`{ok:false,error}`) is thrown as an error
 * carrying the server's name (`ProjectNotFoundError`, …) and detail, as the UI's own client does.
 */
export type E2eApi = KensaApi & {
  call<K extends OperationName>(op: K, ...args: OpArgs<K>): Promise<OpResult<K>>;
};

/** Sends one operation over some transport and answers with the bridge's envelope. */
type Post = (op: string, args: unknown[]) => Promise<Envelope<unknown>>;

function clientOver(post: Post): E2eApi {
  const call = async (op: string, ...args: unknown[]): Promise<unknown> => {
    const env = await post(op, args);
    if (env.ok) return env.value;
    const err = deserializeError(env.error);
    // The operation leads the message so a failing spec says which call was refused; the name stays the server's.
    err.message = `${op}: ${err.message}`;
    throw err;
  };
  const client: Record<string, unknown> = { call };
  for (const op of apiOperations) client[op] = (...args: unknown[]) => call(op, ...args);
  return client as unknown as E2eApi;
}

/** The API from the spec's side (Node), with the session token the server printed, as the UI sends it. */
export function e2eApi(server: RunningServer): E2eApi {
  return clientOver(async (op, args) => {
    const res = await fetch(`${server.origin}/api/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-kensa-token': server.token },
      body: JSON.stringify(args),
    });
    return (await res.json()) as Envelope<unknown>;
  });
}

/**
 * The API from inside the page, with the token of that tab (the app keeps it in the tab's sessionStorage): what the
 * page itself may do, from its own origin. The page must have loaded the app from the printed address first.
 */
export function pageApi(page: Page): E2eApi {
  return clientOver((op, args) =>
    page.evaluate(
      async ({ op, args }) => {
        // The tests' tsconfig has no DOM types: the one browser global used here, by shape.
        const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage;
        const res = await fetch(`/api/${op}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-kensa-token': storage.getItem('kensa.token') ?? '' },
          body: JSON.stringify(args),
          credentials: 'omit',
        });
        return (await res.json()) as Envelope<unknown>;
      },
      { op, args },
    ),
  );
}

/** Polls until a task has finished (succeeded, failed or cancelled) and returns its last snapshot. */
export async function waitForTask(server: RunningServer, id: string): Promise<TaskSnapshot> {
  const api = e2eApi(server);
  for (;;) {
    const t = (await api.listTasks()).find((x) => x.id === id);
    if (t && !['queued', 'running', 'paused'].includes(t.state)) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Switches the UI language through the settings API and waits for the page to follow. */
export async function switchLanguage(server: RunningServer, page: Page, lang: 'en' | 'ja'): Promise<void> {
  await e2eApi(server).updateSettings({ language: lang });
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
  const api = e2eApi(server);
  await api.createProject(join(server.tmp, 'project'), 'Line 3');
  const snap = await api.startImport({ paths: [src], labels: { from: 'folders' } });
  expect((await waitForTask(server, snap.id)).state).toBe('succeeded');
}

/**
 * Starts training runs (queued one after another by the server), waits until all have succeeded and returns their
 * run ids in order.
 */
export async function trainRuns(server: RunningServer, configs: TrainConfigInput[]): Promise<number[]> {
  const api = e2eApi(server);
  const started: { id: string; runId: number }[] = [];
  for (const config of configs) started.push(await api.startTraining(config));
  for (const s of started) expect((await waitForTask(server, s.id)).state).toBe('succeeded');
  return started.map((s) => s.runId);
}
