import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startBridge, type Bridge } from '../../src-main/server/bridge.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { mediaKeyOf } from '../../src-main/services/media.ts';
import { Services } from '../../src-main/services/services.ts';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { MediaKind } from '../../src-main/shared/api/index.ts';
import { mediaPath, projectMediaKey } from '../../src-main/shared/media-url.ts';
import type { ImagePage } from '../../src-main/shared/library-types.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();
let bridge: Bridge | null = null;
let services: Services | null = null;
let handlers: KensaApi;

afterEach(async () => {
  await bridge?.close();
  await services?.dispose();
  bridge = null;
  services = null;
});

const PAGE = '<!doctype html><html><head><title>Kensa</title></head><body><div id="app"></div></body></html>';

async function start(): Promise<Bridge> {
  const dir = tmp();
  mkdirSync(join(dir, 'static'));
  writeFileSync(join(dir, 'static', 'index.html'), PAGE);
  services = new Services({
    configDir: join(dir, 'cfg'),
    resourcesDir: join(dir, 'res'),
    host: { mode: 'browser', electronVersion: null },
  });
  handlers = createHandlers(services);
  bridge = await startBridge(services, handlers, { staticDir: join(dir, 'static') });
  return bridge;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request, so Origin, Host and fetch-metadata headers arrive exactly as a browser page would send them. */
function raw(b: Bridge, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: b.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

const call = (b: Bridge, op: string, args: unknown[], headers: Record<string, string> = {}) =>
  raw(b, 'POST', `/api/${op}`, { 'content-type': 'application/json', ...headers }, JSON.stringify(args));

const json = (r: Reply): unknown => JSON.parse(r.body.toString('utf8'));

/** Opens the events socket; resolves with it, or rejects with the refusal. */
function socket(b: Bridge, protocols: string[], headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${b.port}/events`, protocols, { headers });
  return new Promise((ok, fail) => {
    ws.on('open', () => ok(ws));
    ws.on('error', fail);
  });
}

/** A project with two real JPEGs (green channel `shade`) imported through the API; returns their ids and the project's folder. */
async function projectWithImages(b: Bridge, name: string, shade = 60): Promise<{ dir: string; ids: number[] }> {
  const dir = join(tmp(), name);
  const src = join(tmp(), 'src');
  mkdirSync(src);
  for (let i = 0; i < 2; i++)
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 40 + 90 * i, g: shade, b: 80 } } })
      .jpeg()
      .toFile(join(src, `p${i}.jpg`));
  await call(b, 'createProject', [dir, name], { 'x-kensa-token': b.token });
  const task = await handlers.startImport({ paths: [src] });
  await services!.tasks.wait(task.id);
  const page = (await handlers.listImages({ offset: 0, limit: 10 })) as ImagePage;
  return { dir, ids: page.items.map((i) => i.id) };
}

const mediaUrl = (b: Bridge, kind: MediaKind, id: number | string, key = mediaKeyOf(services!.projects.require())) =>
  `/media/${b.mediaToken}/${mediaPath(key, kind, String(id))}`;

describe('browser-mode bridge', () => {
  it('binds to 127.0.0.1 and answers calls that carry the token', async () => {
    const b = await start();
    expect(b.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    const res = await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token });
    expect(json(res)).toMatchObject({ ok: true, value: { mode: 'browser' } });
    // The page's own origin may call too (browsers always send Origin on a POST).
    const own = await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token, origin: `http://127.0.0.1:${b.port}` });
    expect(own.status).toBe(200);
  });

  it('refuses API calls without the token, with a wrong token, or with the token only in a cookie or the query', async () => {
    const b = await start();
    expect((await call(b, 'getAppInfo', [])).status).toBe(401);
    expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': 'guess' })).status).toBe(401);
    expect((await call(b, 'getAppInfo', [], { cookie: `kensa_token=${b.token}` })).status).toBe(401);
    expect((await raw(b, 'POST', `/api/getAppInfo?token=${b.token}`, {}, '[]')).status).toBe(401);
  });

  it('serves the page with no secret in it and sets no cookie, even for the launch URL', async () => {
    const b = await start();
    const page = await raw(b, 'GET', `/?token=${b.token}`);
    expect(page.status).toBe(200);
    const html = page.body.toString('utf8');
    expect(html).toBe(PAGE);
    expect(html).not.toContain(b.token);
    expect(html).not.toContain(b.mediaToken);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  it('refuses a foreign Origin on API calls and the session even with the right token', async () => {
    const b = await start();
    for (const origin of ['http://127.0.0.1:1', `http://localhost:${b.port}`, 'null', 'http://evil.example']) {
      expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token, origin })).status).toBe(403);
      expect((await raw(b, 'POST', '/session', { 'x-kensa-token': b.token, origin })).status).toBe(403);
    }
  });

  it('refuses what another page on 127.0.0.1 starts (fetch metadata), but lets a plain navigation open the app', async () => {
    const b = await start();
    const sameSite = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' };
    expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token, ...sameSite })).status).toBe(403);
    expect((await raw(b, 'GET', '/', { ...sameSite, 'sec-fetch-mode': 'cors' })).status).toBe(403);
    expect((await raw(b, 'GET', '/', { ...sameSite, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' })).status).toBe(403);
    expect((await raw(b, 'GET', '/', { ...sameSite, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' })).status).toBe(200);
    const mine = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };
    expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token, ...mine })).status).toBe(200);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const b = await start();
    const res = await call(b, 'getAppInfo', [], { host: 'evil.example', 'x-kensa-token': b.token });
    expect(res.status).toBe(403);
  });

  it('returns service errors as envelopes with their names', async () => {
    const b = await start();
    const res = await call(b, 'openProject', ['/definitely/not/here'], { 'x-kensa-token': b.token });
    expect(json(res)).toMatchObject({ ok: false, error: { name: 'ProjectNotFoundError' } });
    const unknown = await call(b, 'noSuchOperation', [], { 'x-kensa-token': b.token });
    expect(json(unknown)).toMatchObject({ ok: false, error: { name: 'NotFoundError' } });
  });

  it('pushes events over the WebSocket only with the token in its subprotocol and no foreign Origin', async () => {
    const b = await start();
    await expect(socket(b, ['kensa', 'kensa-token.nope'])).rejects.toThrow(/401/);
    await expect(socket(b, ['kensa'])).rejects.toThrow(/401/);
    const viaQuery = new WebSocket(`ws://127.0.0.1:${b.port}/events?token=${b.token}`);
    await expect(new Promise((ok, fail) => (viaQuery.on('open', ok), viaQuery.on('error', fail)))).rejects.toThrow(/401/);
    await expect(socket(b, ['kensa', `kensa-token.${b.token}`], { origin: 'http://127.0.0.1:1' })).rejects.toThrow(/403/);
    await expect(socket(b, ['kensa', `kensa-token.${b.token}`], { 'sec-fetch-site': 'same-site' })).rejects.toThrow(/403/);

    const ws = await socket(b, ['kensa', `kensa-token.${b.token}`], { origin: `http://127.0.0.1:${b.port}` });
    expect(ws.protocol).toBe('kensa');
    const got = new Promise<{ event: string; payload: { name: string } }>((ok) => ws.on('message', (m) => ok(JSON.parse(String(m)))));
    await call(b, 'createProject', [join(tmp(), 'p'), 'Evented'], { 'x-kensa-token': b.token });
    expect(await got).toMatchObject({ event: 'project', payload: { name: 'Evented' } });
    ws.close();
  });

  it('hands the media token only for the API token; it opens media, never the API', async () => {
    const b = await start();
    expect((await raw(b, 'POST', '/session')).status).toBe(401);
    const session = await raw(b, 'POST', '/session', { 'x-kensa-token': b.token });
    expect(json(session)).toEqual({ ok: true, value: { mediaToken: b.mediaToken } });
    expect(b.mediaToken).not.toBe(b.token);
    expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': b.mediaToken })).status).toBe(401);
  });

  it("serves media only with the media token, under the open project's key, and only from this page", async () => {
    const b = await start();
    const { ids } = await projectWithImages(b, 'Line A');
    const ok = await raw(b, 'GET', mediaUrl(b, 'thumb', ids[0]!));
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(ok.body).metadata()).format).toBe('jpeg');
    // The old unscoped address, a wrong media token, the API token, another page's request: refused.
    expect((await raw(b, 'GET', `/media/thumb/${ids[0]}`)).status).toBe(401);
    expect((await raw(b, 'GET', mediaUrl(b, 'thumb', ids[0]!).replace(b.mediaToken, 'x'.repeat(24)))).status).toBe(401);
    expect((await raw(b, 'GET', mediaUrl(b, 'thumb', ids[0]!).replace(b.mediaToken, b.token))).status).toBe(401);
    const foreign = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
    expect((await raw(b, 'GET', mediaUrl(b, 'thumb', ids[0]!), foreign)).status).toBe(403);
  });

  it('changes the media key with the project and refuses the previous project key after a switch', async () => {
    const b = await start();
    const a = await projectWithImages(b, 'Line A');
    const keyA = mediaKeyOf(services!.projects.require());
    const urlA = mediaUrl(b, 'image', a.ids[0]!);
    const bytesA = (await raw(b, 'GET', urlA)).body;
    const second = await projectWithImages(b, 'Line B', 200);
    const keyB = mediaKeyOf(services!.projects.require());
    expect(keyB).not.toBe(keyA);
    // The renderer computes the same key from the ProjectInfo it is given.
    const info = json(await call(b, 'getCurrentProject', [], { 'x-kensa-token': b.token })) as {
      value: { dir: string; createdAt: string };
    };
    expect(projectMediaKey(info.value)).toBe(keyB);
    // Same image id in both projects: A's URL is refused now, B's URL gives B's picture.
    expect(second.ids[0]).toBe(a.ids[0]);
    expect((await raw(b, 'GET', urlA)).status).toBe(404);
    const bytesB = (await raw(b, 'GET', mediaUrl(b, 'image', second.ids[0]!))).body;
    expect(bytesB.equals(bytesA)).toBe(false);
    const storedB = (await services!.resolveMedia('image', String(second.ids[0]))).path;
    expect(bytesB.equals(readFileSync(storedB))).toBe(true);
  });

  it("refuses media whose file is a link out of the project's store", async () => {
    const b = await start();
    const { ids } = await projectWithImages(b, 'Linked');
    const secret = join(tmp(), 'secret.jpg');
    writeFileSync(
      secret,
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
        .jpeg()
        .toBuffer(),
    );
    // The stored original and the cached thumbnail replaced by links to a file outside the project.
    for (const kind of ['image', 'thumb'] as const) {
      const inStore = (await services!.resolveMedia(kind, String(ids[0]))).path;
      rmSync(inStore);
      symlinkSync(secret, inStore);
      const res = await raw(b, 'GET', mediaUrl(b, kind, ids[0]!));
      expect(res.status).toBe(404);
      expect(json(res)).toMatchObject({
        ok: false,
        error: { name: 'NotFoundError', message: expect.stringMatching(/outside the project/) },
      });
    }
    // The other image, a plain file in the store, is still served.
    expect((await raw(b, 'GET', mediaUrl(b, 'image', ids[1]!))).status).toBe(200);
  });
});
