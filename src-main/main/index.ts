// Electron main process: a thin shell over the services (which never import electron).
import { app, BrowserWindow, dialog, ipcMain, net, protocol, session, shell, utilityProcess } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { apiOperations } from '../shared/api/index.ts';
import { NotFoundError, serializeError } from '../shared/errors.ts';
import { parseMediaPath } from '../shared/media-url.ts';
import { createHandlers, invoke } from '../services/handlers/index.ts';
import { resolveProjectMedia } from '../services/media.ts';
import { probeScript } from '../services/engine/probe-child.ts';
import { engineEntry, type EngineLauncher } from '../services/engine/client.ts';
import { Services } from '../services/services.ts';
import { openInitialProject } from '../services/startup.ts';

// Bundled build: helper scripts sit beside this file instead of in the source tree.
probeScript.path = join(__dirname, 'probe.cjs');
engineEntry.path = join(__dirname, 'engine.cjs');

/**
 * The ML engine runs in a utilityProcess: a native TensorFlow crash or an out-of-memory there ends
 * that process only, and the catalog (owned here) stays up.
 */
const utilityLauncher: EngineLauncher = (entryPath, opts) => {
  const child = utilityProcess.fork(entryPath, [], { env: opts.env, serviceName: 'Kensa engine', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (msg) => child.postMessage(msg),
    on: ((event: 'message' | 'exit', fn: (...a: unknown[]) => void) => {
      if (event === 'exit') child.on('exit', (code) => fn(code, null));
      else child.on('message', (m) => fn(m));
    }) as ReturnType<EngineLauncher>['on'],
    kill: () => {
      child.kill();
    },
  };
};

protocol.registerSchemesAsPrivileged([
  { scheme: 'kensa-media', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let win: BrowserWindow | null = null;

const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' kensa-media: data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

async function createWindow(services: Services): Promise<void> {
  win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    title: 'Kensa',
    icon: join(__dirname, '../../resources/icon.png'),
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // No remote content: block navigation and new windows; links open in the OS browser.
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  services.events.onAny((event, payload) => win?.webContents.send('kensa:event', event, payload));
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(__dirname, '../renderer/index.html'));
}

async function boot(): Promise<void> {
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));

  const services = new Services({
    configDir: app.getPath('userData'),
    resourcesDir: app.isPackaged ? process.resourcesPath : join(__dirname, '../../resources'),
    host: {
      mode: 'electron',
      electronVersion: process.versions.electron ?? null,
      async pickFolder(purpose) {
        const r = await dialog.showOpenDialog(win!, { properties: ['openDirectory', 'createDirectory'], title: `Kensa: ${purpose}` });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      async pickFiles(purpose) {
        const filters =
          purpose === 'csv'
            ? [{ name: 'CSV', extensions: ['csv'] }]
            : purpose === 'model'
              ? [{ name: 'Model', extensions: ['json'] }]
              : purpose === 'annotations'
                ? [{ name: 'Annotations (JSON)', extensions: ['json'] }]
                : [{ name: 'Images', extensions: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'] }];
        const r = await dialog.showOpenDialog(win!, { properties: ['openFile', 'multiSelections'], filters });
        return r.canceled ? null : r.filePaths;
      },
      setProgress(fraction) {
        win?.setProgressBar(fraction ?? -1);
      },
    },
    engineLauncher: utilityLauncher,
  });
  const handlers = createHandlers(services);
  for (const op of apiOperations) {
    ipcMain.handle(`kensa:${op}`, (_e, ...args: unknown[]) => invoke(handlers, op, args));
  }
  // kensa-media://project/<project key>/<kind>/<id> (shared/media-url.ts): only the open project's own files.
  protocol.handle('kensa-media', async (req) => {
    const url = new URL(req.url);
    try {
      const media = url.hostname === 'project' ? parseMediaPath(url.pathname.slice(1), url.searchParams) : null;
      if (!media) throw new NotFoundError(`Not a media address: ${req.url}`);
      const file = await resolveProjectMedia(services, media);
      return net.fetch(pathToFileURL(file.path).toString());
    } catch (err) {
      return new Response(JSON.stringify(serializeError(err)), { status: 404 });
    }
  });
  await createWindow(services);
  try {
    const { warning } = await openInitialProject(services, { demo: true });
    if (warning) console.warn(warning);
  } catch (err) {
    console.error(err);
  }
  app.on('window-all-closed', () => {
    void services.dispose().finally(() => app.quit());
  });
}

void boot();
