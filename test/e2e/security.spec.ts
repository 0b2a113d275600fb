import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { e2eApi, pageApi, waitForTask } from '../helpers/e2e-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { kensa } from './pages/index.ts';

/**
 * Browser-mode security (issue 11 items 1 and 4): a page served from another port of 127.0.0.1 (which browsers treat
 * as the same site, and to which they send this site's cookies) can neither read the token nor use the API, the
 * WebSocket or media; and after a project switch every thumbnail and the viewer show the new project's pictures.
 */
let server: RunningServer;
let other: Server;
let otherOrigin: string;
/** Cookie headers that reached the other server: the token must never be among them. */
const cookiesSeen: string[] = [];
let dirA: string;
let dirB: string;

/** The few DOM shapes the in-page code uses (the tests' tsconfig has no DOM types). */
interface Img {
  complete: boolean;
  naturalWidth: number;
  currentSrc: string;
  src: string;
  onload: (() => void) | null;
  onerror: (() => void) | null;
  closest(selector: string): { getAttribute(name: string): string | null } | null;
}
interface Frame {
  src: string;
  onload: (() => void) | null;
  contentWindow: { sessionStorage: { getItem(key: string): string | null } } | null;
}
interface Doc {
  cookie: string;
  body: { append(node: Frame): void };
  createElement(tag: 'img'): Img;
  createElement(tag: 'iframe'): Frame;
}

/** Four flat pictures with a faint pattern of their own: dark ones for project A, bright ones for project B. */
async function writePictures(dir: string, base: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const [w, h] = [96, 72];
  for (let i = 0; i < 4; i++) {
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p++) px.fill(base + (((p % w) * 7 + Math.floor(p / w) * 3 + i * 11) % 24), p * 3, p * 3 + 3);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(dir, `core-${i + 1}.jpg`));
  }
}

async function projectWith(dir: string, name: string, pictures: string): Promise<void> {
  const api = e2eApi(server);
  await api.createProject(dir, name);
  const task = await api.startImport({ paths: [pictures] });
  expect((await waitForTask(server, task.id)).state).toBe('succeeded');
}

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Hashes of every file under a project's cache/thumbs folder. */
function thumbHashes(projectDir: string): Set<string> {
  const root = join(projectDir, 'cache', 'thumbs');
  const out = new Set<string>();
  for (const sub of readdirSync(root)) for (const f of readdirSync(join(root, sub))) out.add(sha(readFileSync(join(root, sub, f))));
  return out;
}

/** Hashes of the bytes each loaded grid thumbnail came from, fetched again by the page (from its cache, as the grid). */
async function gridThumbs(page: Page): Promise<{ src: string; hash: string; id: string }[]> {
  const grid = kensa(page, server).library.grid;
  await expect(grid.locator('img')).toHaveCount(4);
  await expect
    .poll(() =>
      grid
        .locator('img')
        .evaluateAll((imgs) => imgs.every((i) => (i as unknown as Img).complete && (i as unknown as Img).naturalWidth > 0)),
    )
    .toBe(true);
  return grid.locator('img').evaluateAll(async (imgs) =>
    Promise.all(
      imgs.map(async (i) => {
        const img = i as unknown as Img;
        const bytes = await (await fetch(img.currentSrc)).arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return {
          src: img.currentSrc,
          hash: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
          id: img.closest('[data-id]')?.getAttribute('data-id') ?? '',
        };
      }),
    ),
  );
}

test.beforeAll(async () => {
  server = await startServer(['--no-demo']);
  dirA = join(server.tmp, 'line-a');
  dirB = join(server.tmp, 'line-b');
  await writePictures(join(server.tmp, 'pics-a'), 40);
  await writePictures(join(server.tmp, 'pics-b'), 210);
  await projectWith(dirB, 'Line B', join(server.tmp, 'pics-b'));
  await projectWith(dirA, 'Line A', join(server.tmp, 'pics-a'));
  // Another local server (a dev server, a notebook) on another port of 127.0.0.1, serving an empty page.
  other = createServer((req, res) => {
    if (req.headers.cookie) cookiesSeen.push(req.headers.cookie);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>Another local page</title></head><body><p>notebook</p></body></html>');
  });
  await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
  otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await new Promise((ok) => other.close(ok));
  await server.stop();
});

test('the app keeps its token out of cookies, the page and the address bar, and a reload in the same tab still works', async ({
  page,
  context,
}) => {
  const { shell, library } = kensa(page, server);
  await shell.goto();
  await expect(shell.projectName).toHaveText('Line A');
  // The token has left the address bar (and so the history entry), and nothing else holds it outside the tab.
  expect(page.url()).not.toContain(server.token);
  expect(page.url()).not.toContain('token=');
  expect(await context.cookies()).toEqual([]);
  expect(await page.content()).not.toContain(server.token);
  const html = await (await fetch(`${server.origin}/`)).text();
  expect(html).not.toContain(server.token);

  await library.open();
  const before = await gridThumbs(page);
  for (const t of before) expect(t.src).not.toContain(server.token);
  await page.reload();
  await expect(shell.projectName).toHaveText('Line A');
  expect((await gridThumbs(page)).map((t) => t.hash).sort()).toEqual(before.map((t) => t.hash).sort());

  // A new tab without the printed address is not signed in, and says how to get in.
  const fresh = await context.newPage();
  await fresh.goto(`${server.origin}/`);
  await expect(fresh.getByText('This browser session is not signed in')).toBeVisible();
  await fresh.close();
});

test('a page from another 127.0.0.1 port cannot read the token, call the API, open the WebSocket or load media', async ({
  page,
  context,
}) => {
  const { shell, api, library, projects } = kensa(page, server);
  await shell.goto();
  await library.open();
  const [thumb] = await gridThumbs(page);
  const imageUrl = thumb!.src.replace('/thumb/', '/image/');

  const evil = await context.newPage();
  await evil.goto(`${otherOrigin}/`);
  const planted = join(server.tmp, 'planted-by-another-page');
  // The other page even knows the token and a valid media address (as if they had leaked): it still gets nothing.
  const tried = await evil.evaluate(
    async ({ app, token, mediaUrl, imageUrl, planted }) => {
      const outcome = async (f: () => Promise<string>): Promise<string> => {
        try {
          return await f();
        } catch (e) {
          return `refused: ${(e as Error).name}`;
        }
      };
      const loads = (src: string): Promise<string> =>
        new Promise((ok) => {
          const img = (globalThis as unknown as { document: Doc }).document.createElement('img');
          img.onload = () => ok(`loaded ${img.naturalWidth}px`);
          img.onerror = () => ok('refused');
          img.src = src;
        });
      const ws = (protocols: string[]): Promise<string> =>
        new Promise((ok) => {
          const s = new WebSocket(`${app.replace('http', 'ws')}/events`, protocols);
          s.onopen = () => ok('open');
          s.onclose = () => ok('refused');
        });
      const frame = await new Promise<string>((ok) => {
        const f = (globalThis as unknown as { document: Doc }).document.createElement('iframe');
        f.src = `${app}/`;
        f.onload = () => {
          try {
            ok(`read: ${f.contentWindow!.sessionStorage.getItem('kensa.token')}`);
          } catch (e) {
            ok(`refused: ${(e as Error).name}`);
          }
        };
        (globalThis as unknown as { document: Doc }).document.body.append(f);
      });
      return {
        cookie: (globalThis as unknown as { document: Doc }).document.cookie,
        page: await outcome(async () => (await fetch(`${app}/`, { credentials: 'include' })).text()),
        pageNoCors: await outcome(async () => {
          const r = await fetch(`${app}/`, { mode: 'no-cors', credentials: 'include' });
          return `${r.type}:${await r.text()}`;
        }),
        api: await outcome(async () =>
          (await fetch(`${app}/api/getAppInfo`, { method: 'POST', credentials: 'include', body: '[]' })).text(),
        ),
        apiWithToken: await outcome(async () =>
          (
            await fetch(`${app}/api/getAppInfo`, {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'application/json', 'x-kensa-token': token },
              body: '[]',
            })
          ).text(),
        ),
        session: await outcome(async () => (await fetch(`${app}/session`, { method: 'POST', headers: { 'x-kensa-token': token } })).text()),
        // A "simple" request needs no preflight: it reaches the server, which must not act on it.
        blindWrite: await outcome(async () => {
          const r = await fetch(`${app}/api/createProject`, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify([planted, 'Planted']),
          });
          return r.type;
        }),
        socket: await ws(['kensa']),
        socketWithToken: await ws(['kensa', `kensa-token.${token}`]),
        media: await loads(mediaUrl),
        image: await loads(imageUrl),
        oldMediaAddress: await loads(`${app}/media/thumb/1`),
        mediaFetch: await outcome(async () => (await fetch(mediaUrl)).statusText),
        frame,
      };
    },
    { app: server.origin, token: server.token, mediaUrl: thumb!.src, imageUrl, planted },
  );

  expect(tried.cookie).toBe('');
  expect(tried.page).toMatch(/^refused/);
  // Without CORS a no-cors answer is opaque at best (CORP and the server refuse it outright): nothing to read.
  expect(tried.pageNoCors).toMatch(/^(refused|opaque:$)/);
  expect(tried.api).toMatch(/^refused/);
  expect(tried.apiWithToken).toMatch(/^refused/);
  expect(tried.session).toMatch(/^refused/);
  expect(tried.blindWrite).toMatch(/^(refused|opaque$)/);
  expect(existsSync(planted)).toBe(false);
  expect(tried.socket).toBe('refused');
  expect(tried.socketWithToken).toBe('refused');
  expect(tried.media).toBe('refused');
  expect(tried.image).toBe('refused');
  expect(tried.oldMediaAddress).toBe('refused');
  expect(tried.mediaFetch).toMatch(/^refused/);
  expect(tried.frame).toMatch(/^refused/);
  expect(cookiesSeen.filter((c) => c.includes(server.token))).toEqual([]);
  expect((await api.getCurrentProject())!.dir).toBe(dirA);

  // Meanwhile the real page still works: its own API calls (with its tab's token), events and pictures.
  expect((await pageApi(page).getCurrentProject())!.dir).toBe(dirA);
  const own = await page.evaluate(async (mediaUrl) => (await fetch(mediaUrl)).status, thumb!.src);
  expect(own).toBe(200);
  await projects.openSwitcher();
  await expect(projects.recent(/Line B/)).toBeVisible();
  await evil.close();
});

test("after a project switch the grid and the viewer show the new project's pictures, not the old ones", async ({ page }) => {
  const { shell, api, library, projects } = kensa(page, server);
  await api.openProject(dirA);
  const hashesA = thumbHashes(dirA);
  const hashesB = thumbHashes(dirB);
  await shell.goto();
  await expect(shell.projectName).toHaveText('Line A');
  await library.open();
  const shownA = await gridThumbs(page);
  for (const t of shownA) expect(hashesA.has(t.hash)).toBe(true);

  // Switch in the UI (the recent list). Both projects number their images 1-4, so only the project in the URL
  // keeps the browser from reusing A's cached thumbnails.
  await projects.openSwitcher();
  await projects.recent(/Line B/).click();
  await expect(shell.projectName).toHaveText('Line B');
  await library.open();
  const shownB = await gridThumbs(page);
  expect(shownB.map((t) => t.id).sort()).toEqual(shownA.map((t) => t.id).sort());
  for (const t of shownB) {
    expect(hashesB.has(t.hash)).toBe(true);
    expect(hashesA.has(t.hash)).toBe(false);
  }
  await shell.screenshot('security-switched-grid-en');

  // The viewer shows B's stored picture, byte for byte.
  await library.cell(0).click();
  await library.pressKey('Enter');
  const viewer = library.viewer.root;
  await expect(viewer).toBeVisible();
  const shown = viewer.locator('img').first();
  await expect.poll(() => shown.evaluate((i) => (i as unknown as Img).naturalWidth)).toBeGreaterThan(0);
  const viewed = await shown.evaluate(async (i) => {
    const bytes = new Uint8Array(await (await fetch((i as unknown as Img).currentSrc)).arrayBuffer());
    return Array.from(bytes);
  });
  const id = Number(await library.cell(0).getAttribute('data-id'));
  const detail = await api.getImage(id);
  expect(Buffer.from(viewed).equals(readFileSync(join(server.tmp, 'pics-b', detail.name)))).toBe(true);
  await library.pressKey('Escape');

  // Switched from outside the UI (another window, the API) while the grid is on screen: the grid follows.
  await api.openProject(dirA);
  await expect(shell.projectName).toHaveText('Line A');
  await expect.poll(async () => (await gridThumbs(page)).every((t) => hashesA.has(t.hash))).toBe(true);
});
