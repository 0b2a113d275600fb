import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KensaApi } from '../shared/api/index.ts';
import { serializeError } from '../shared/errors.ts';
import { invoke } from '../services/handlers/index.ts';
import type { Services } from '../services/services.ts';

export interface BridgeOptions {
  /** Built renderer (out/renderer). */
  staticDir: string;
  port?: number;
  /** Fixed token for tests; a random one per launch otherwise. */
  token?: string;
}

export interface Bridge {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const MAX_BODY = 8 * 1024 * 1024;

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | null {
  const m = /(?:^|;\s*)kensa_token=([^;]+)/.exec(req.headers.cookie ?? '');
  return m?.[1] ?? null;
}

/**
 * Browser mode: the same services behind HTTP + WebSocket on 127.0.0.1 only. Every request must
 * carry the per-launch token (API calls in a header, which a cross-site page cannot set without a
 * CORS preflight we never grant; page and media loads by a SameSite=Strict cookie set from the
 * launch URL), and the Host header must be our own, against DNS rebinding.
 */
export async function startBridge(services: Services, handlers: KensaApi, opts: BridgeOptions): Promise<Bridge> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const staticRoot = resolve(opts.staticDir);
  let port = 0;

  const hostOk = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };

  const deny = (res: ServerResponse, code: number, message: string): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: false, error: { name: 'UnauthorizedError', message } }));
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: serializeError(err) }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) return deny(res, 403, 'Wrong host');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return deny(res, 405, 'POST only');
      if (!sameToken(req.headers['x-kensa-token'] as string | undefined, token)) return deny(res, 401, 'Missing or wrong token');
      const body = await readBody(req);
      let args: unknown;
      try {
        args = body.length ? JSON.parse(body) : [];
      } catch {
        return deny(res, 400, 'Body must be a JSON array of arguments');
      }
      if (!Array.isArray(args)) return deny(res, 400, 'Body must be a JSON array of arguments');
      const envelope = await invoke(handlers, decodeURIComponent(url.pathname.slice(5)), args);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(envelope));
      return;
    }

    const queryToken = url.searchParams.get('token');
    const authed =
      sameToken(queryToken, token) || sameToken(cookieToken(req), token) || sameToken(req.headers['x-kensa-token'] as string, token);
    if (!authed) return deny(res, 401, 'Open Kensa with the address printed by `npm run serve` (it carries the access token).');
    if (sameToken(queryToken, token)) res.setHeader('set-cookie', `kensa_token=${token}; HttpOnly; SameSite=Strict; Path=/`);

    if (url.pathname.startsWith('/media/')) {
      const [, , kind, ...rest] = url.pathname.split('/');
      const params = Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'token'));
      try {
        const file = await services.resolveMedia(kind ?? '', decodeURIComponent(rest.join('/')), params);
        const st = statSync(file.path);
        res.writeHead(200, { 'content-type': file.mime, 'content-length': st.size, 'cache-control': 'private, max-age=3600' });
        createReadStream(file.path).pipe(res);
      } catch (err) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: serializeError(err) }));
      }
      return;
    }

    // Static renderer files; unknown paths fall back to index.html (client-side routes).
    let file = normalize(join(staticRoot, decodeURIComponent(url.pathname)));
    if (!file.startsWith(staticRoot + sep) && file !== staticRoot) return deny(res, 403, 'Outside the app');
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(staticRoot, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The renderer is not built: run `npm run build` (npm run serve does it for you).');
      return;
    }
    if (file.endsWith('index.html')) {
      // The page learns its API token from a meta tag, so reloads and bookmarks without ?token work.
      const html = readFileSync(file, 'utf8').replace('<head>', `<head><meta name="kensa-token" content="${token}">`);
      res.writeHead(200, { 'content-type': MIME['.html']!, 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!hostOk(req) || url.pathname !== '/events' || !sameToken(url.searchParams.get('token'), token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
    });
  });
  const off = services.events.onAny((event, payload) => {
    const msg = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(msg);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      off();
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(new Error('Request too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}
