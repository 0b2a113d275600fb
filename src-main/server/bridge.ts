import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KensaApi } from '../shared/api/index.ts';
import { serializeError } from '../shared/errors.ts';
import { parseMediaPath } from '../shared/media-url.ts';
import { invoke } from '../services/handlers/index.ts';
import { resolveProjectMedia } from '../services/media.ts';
import type { Services } from '../services/services.ts';

export interface BridgeOptions {
  /** Built renderer (out/renderer). */
  staticDir: string;
  port?: number;
  /** Fixed token for tests (16+ characters of A-Z a-z 0-9 _ -); a random one per launch otherwise. */
  token?: string;
}

export interface Bridge {
  url: string;
  port: number;
  token: string;
  /** The per-launch secret in media URLs (`/media/<mediaToken>/…`); it opens media only, never the API. */
  mediaToken: string;
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
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,}$/;
/** WebSocket subprotocols: the page offers `kensa` and `kensa-token.<token>`; the server answers `kensa`. */
const WS_PROTOCOL = 'kensa';
const WS_TOKEN_PREFIX = 'kensa-token.';

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Fetch metadata (sent by Chromium, Firefox and Safari): a request another page started, including a page of another
 * port on 127.0.0.1 (same-site, as browsers do not separate sites by port). Requests without it come from outside a
 * browser and still need the token.
 */
function fromAnotherPage(req: IncomingMessage): boolean {
  const site = header(req, 'sec-fetch-site');
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/**
 * Browser mode: the same services behind HTTP + WebSocket on 127.0.0.1 only, guarded so that no other origin can
 * obtain or use the per-launch token (other servers on 127.0.0.1 receive this origin's cookies, so there is none):
 * - the printed URL carries the token as `?token=`; the page moves it into its tab's sessionStorage and takes it out
 *   of the address bar (src-renderer/src/lib/api.ts). The page and its files are served without any secret in them.
 * - API calls carry it in the `x-kensa-token` header (another origin cannot send that header: its preflight gets no
 *   CORS grant); the WebSocket in a subprotocol; media URLs carry a separate per-launch media token that opens media
 *   only (images cannot send headers; the page learns it from `POST /session` with the API token).
 * - a foreign `Origin` is refused on API calls and the WebSocket, requests another page started (fetch metadata) are
 *   refused except a plain navigation to the app, responses may not be embedded by other origins (CORP, CSP
 *   frame-ancestors), and the Host header must be our own, against DNS rebinding.
 */
export async function startBridge(services: Services, handlers: KensaApi, opts: BridgeOptions): Promise<Bridge> {
  if (opts.token !== undefined && !TOKEN_SHAPE.test(opts.token))
    throw new Error('The token must be at least 16 characters of A-Z, a-z, 0-9, _ and -.');
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const mediaToken = randomBytes(18).toString('base64url');
  const staticRoot = resolve(opts.staticDir);
  let port = 0;

  const hostOk = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };
  // Browsers send Origin on every POST and WebSocket handshake; it must be this very origin.
  const originOk = (req: IncomingMessage): boolean => {
    const origin = header(req, 'origin');
    return origin === undefined || origin === `http://${req.headers.host}`;
  };

  const deny = (res: ServerResponse, code: number, message: string): void => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
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
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    const isApi = url.pathname.startsWith('/api/') || url.pathname === '/session';

    if (fromAnotherPage(req)) {
      const navigation =
        req.method === 'GET' && header(req, 'sec-fetch-mode') === 'navigate' && header(req, 'sec-fetch-dest') === 'document';
      if (!navigation || isApi || url.pathname.startsWith('/media/')) return deny(res, 403, 'Requests from other pages are refused');
    }

    if (isApi) {
      if (req.method !== 'POST') return deny(res, 405, 'POST only');
      if (!originOk(req)) return deny(res, 403, 'Wrong origin');
      if (!sameToken(header(req, 'x-kensa-token'), token)) return deny(res, 401, 'Missing or wrong token');
      if (url.pathname === '/session') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ ok: true, value: { mediaToken } }));
        return;
      }
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

    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'GET only');

    if (url.pathname.startsWith('/media/')) {
      // /media/<media token>/<project key>/<kind>/<id>
      const rest = url.pathname.slice('/media/'.length);
      const slash = rest.indexOf('/');
      if (slash < 0 || !sameToken(rest.slice(0, slash), mediaToken)) return deny(res, 401, 'Missing or wrong media token');
      const media = parseMediaPath(rest.slice(slash + 1), url.searchParams);
      try {
        if (!media) throw Object.assign(new Error(`Not a media address: ${url.pathname}`), { name: 'NotFoundError' });
        const file = await resolveProjectMedia(services, media);
        const st = statSync(file.path);
        res.writeHead(200, { 'content-type': file.mime, 'content-length': st.size, 'cache-control': 'private, max-age=3600' });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file.path).pipe(res);
      } catch (err) {
        res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ ok: false, error: serializeError(err) }));
      }
      return;
    }

    // Static renderer files (no secrets in them); unknown paths fall back to index.html (client-side routes).
    let file = normalize(join(staticRoot, decodeURIComponent(url.pathname)));
    if (!file.startsWith(staticRoot + sep) && file !== staticRoot) return deny(res, 403, 'Outside the app');
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(staticRoot, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The renderer is not built: run `npm run build` (npm run serve does it for you).');
      return;
    }
    if (file.endsWith('index.html')) {
      res.writeHead(200, {
        'content-type': MIME['.html']!,
        'cache-control': 'no-store',
        'content-security-policy': PAGE_CSP,
        'cross-origin-opener-policy': 'same-origin',
        'x-frame-options': 'DENY',
      });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => WS_PROTOCOL });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const offered = (header(req, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    const given = offered.find((p) => p.startsWith(WS_TOKEN_PREFIX))?.slice(WS_TOKEN_PREFIX.length);
    const refuse = (status: string): void => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    if (!hostOk(req) || !originOk(req) || fromAnotherPage(req)) return refuse('403 Forbidden');
    if (url.pathname !== '/events' || !offered.includes(WS_PROTOCOL) || !sameToken(given, token)) return refuse('401 Unauthorized');
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
    mediaToken,
    close: async () => {
      off();
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/**
 * No other origin may frame the page (clickjacking) or receive its forms. Script and connect sources are left open:
 * Playwright's string predicates (bench/grid-scroll.ts) run through eval, which a script-src without 'unsafe-eval'
 * blocks.
 */
const PAGE_CSP = ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"].join('; ');

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
