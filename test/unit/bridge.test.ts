import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startBridge, type Bridge } from '../../src-main/server/bridge.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { Services } from '../../src-main/services/services.ts';
import { useTmp } from '../helpers/tmp.ts';

const tmp = useTmp();
let bridge: Bridge | null = null;
let services: Services | null = null;

afterEach(async () => {
  await bridge?.close();
  await services?.dispose();
  bridge = null;
});

async function start(): Promise<Bridge> {
  const dir = tmp();
  services = new Services({
    configDir: join(dir, 'cfg'),
    resourcesDir: join(dir, 'res'),
    host: { mode: 'browser', electronVersion: null },
  });
  bridge = await startBridge(services, createHandlers(services), { staticDir: join(dir, 'static') });
  return bridge;
}

const call = (b: Bridge, op: string, args: unknown[], headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${b.port}/api/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(args),
  });

describe('browser-mode bridge', () => {
  it('binds to 127.0.0.1 and answers calls that carry the token', async () => {
    const b = await start();
    expect(b.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    const res = await call(b, 'getAppInfo', [], { 'x-kensa-token': b.token });
    const body = (await res.json()) as { ok: boolean; value: { mode: string } };
    expect(body).toMatchObject({ ok: true, value: { mode: 'browser' } });
  });

  it('refuses API calls without the token, with a wrong token, or with the token only in a cookie', async () => {
    const b = await start();
    expect((await call(b, 'getAppInfo', [])).status).toBe(401);
    expect((await call(b, 'getAppInfo', [], { 'x-kensa-token': 'guess' })).status).toBe(401);
    expect((await call(b, 'getAppInfo', [], { cookie: `kensa_token=${b.token}` })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${b.port}/`)).status).toBe(401);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const b = await start();
    // fetch() will not forge a Host header, so send a raw request the way a rebinding page would arrive.
    const status = await new Promise<number>((ok, fail) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: b.port,
          path: '/api/getAppInfo',
          method: 'POST',
          headers: { host: 'evil.example', 'x-kensa-token': b.token },
        },
        (res) => ok(res.statusCode ?? 0),
      );
      req.on('error', fail);
      req.end('[]');
    });
    expect(status).toBe(403);
  });

  it('returns service errors as envelopes with their names', async () => {
    const b = await start();
    const res = await call(b, 'openProject', ['/definitely/not/here'], { 'x-kensa-token': b.token });
    expect(await res.json()).toMatchObject({ ok: false, error: { name: 'ProjectNotFoundError' } });
    const unknown = await call(b, 'noSuchOperation', [], { 'x-kensa-token': b.token });
    expect(await unknown.json()).toMatchObject({ ok: false, error: { name: 'NotFoundError' } });
  });

  it('pushes events over the WebSocket only with the token', async () => {
    const b = await start();
    const bad = new WebSocket(`ws://127.0.0.1:${b.port}/events?token=nope`);
    await expect(
      new Promise((ok, fail) => {
        bad.on('open', ok);
        bad.on('error', fail);
      }),
    ).rejects.toThrow(/401/);
    const ws = new WebSocket(`ws://127.0.0.1:${b.port}/events?token=${b.token}`);
    await new Promise((ok) => ws.on('open', ok));
    const got = new Promise<{ event: string; payload: { name: string } }>((ok) => ws.on('message', (m) => ok(JSON.parse(String(m)))));
    await call(b, 'createProject', [join(tmp(), 'p'), 'Evented'], { 'x-kensa-token': b.token });
    expect(await got).toMatchObject({ event: 'project', payload: { name: 'Evented' } });
    ws.close();
  });
});
