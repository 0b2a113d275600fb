import { apiOperations, type EventName, type KensaClient, type KensaEvents, type MediaKind } from '../../../src-main/shared/api/index.ts';
import { deserializeError, type Envelope } from '../../../src-main/shared/errors.ts';
import { mediaPath, NO_PROJECT_KEY, projectMediaKey } from '../../../src-main/shared/media-url.ts';
import type { ProjectInfo } from '../../../src-main/shared/types.ts';
import { mediaScope } from './media-scope.svelte.ts';

type Listener = (payload: unknown) => void;
type MediaParams = Record<string, string | number>;

/** What the Electron preload exposes (see src-main/preload): envelopes, not thrown errors. */
type PreloadBridge = Record<string, (...args: unknown[]) => Promise<Envelope<unknown>>> & {
  subscribe(event: EventName, l: Listener): () => void;
};

declare global {
  interface Window {
    kensaBridge?: PreloadBridge;
  }
}

function unwrap(env: Envelope<unknown>): unknown {
  if (env.ok) return env.value;
  throw deserializeError(env.error);
}

/** Operations whose result is the open project: media URLs follow it before the caller sees it. */
const PROJECT_RESULTS = new Set<string>(['createProject', 'openProject', 'openDemoProject', 'getCurrentProject']);

function follow(project: ProjectInfo | null): void {
  mediaScope.projectKey = project ? projectMediaKey(project) : NO_PROJECT_KEY;
}

/**
 * Every operation as a method, with the media scope kept on the open project: from the results of the project
 * operations and from the `project` event (this listener is the first, so it runs before the app's own).
 */
function buildClient(
  call: (op: string, args: unknown[]) => Promise<unknown>,
  subscribe: (event: EventName, l: Listener) => () => void,
  mediaUrl: (kind: MediaKind, id: string, params?: MediaParams) => string,
): KensaClient {
  const client: Record<string, unknown> = {};
  for (const op of apiOperations) {
    client[op] = async (...args: unknown[]) => {
      const value = await call(op, args);
      if (PROJECT_RESULTS.has(op)) follow(value as ProjectInfo | null);
      else if (op === 'closeProject') follow(null);
      return value;
    };
  }
  subscribe('project', (p) => follow(p as ProjectInfo | null));
  client.subscribe = subscribe;
  client.mediaUrl = mediaUrl;
  return client as unknown as KensaClient;
}

function electronClient(bridge: PreloadBridge): KensaClient {
  return buildClient(
    async (op, args) => unwrap(await bridge[op]!(...args)),
    (event, l) => bridge.subscribe(event, l),
    (kind, id, params) => `kensa-media://project/${mediaPath(mediaScope.projectKey, kind, id, params)}`,
  );
}

const TOKEN_KEY = 'kensa.token';

/**
 * The API token of this tab: from the printed URL's `?token=` on first load (then kept in this tab's sessionStorage,
 * which no other origin or tab can read, and taken out of the address bar), from sessionStorage on a reload.
 */
function takeToken(): string {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given === null) return sessionStorage.getItem(TOKEN_KEY) ?? '';
  try {
    sessionStorage.setItem(TOKEN_KEY, given);
  } catch {
    // Storage refused (private mode quotas): the token still works for this page load.
  }
  url.searchParams.delete('token');
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return given;
}

/**
 * Browser mode: HTTP for calls (token in a header), one WebSocket for events (token in a subprotocol), reconnecting;
 * media URLs carry the media token the server hands this page for its token (`POST /session`), never the token itself.
 */
function httpClient(token: string): KensaClient {
  const post = async (path: string, body: string): Promise<unknown> => {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-kensa-token': token },
      body,
      credentials: 'omit',
    });
    return unwrap((await res.json()) as Envelope<unknown>);
  };
  // Every call waits for the session, so nothing the app renders can ask for media before the media token is known.
  const session = post('/session', '').then((v) => {
    mediaScope.token = (v as { mediaToken: string }).mediaToken;
  });
  session.catch(() => {
    // Each call rethrows the refusal (UnauthorizedError), which the app shows with what to do.
  });

  const listeners = new Map<EventName, Set<Listener>>();
  const connect = (): void => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${proto}://${location.host}/events`, ['kensa', `kensa-token.${token}`]);
    socket.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as { event: EventName; payload: unknown };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    socket.onclose = () => setTimeout(connect, 1000);
  };
  connect();

  return buildClient(
    async (op, args) => {
      await session;
      return post(`/api/${op}`, JSON.stringify(args));
    },
    (event, l) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(l);
      return () => set.delete(l);
    },
    (kind, id, params) => `/media/${encodeURIComponent(mediaScope.token)}/${mediaPath(mediaScope.projectKey, kind, id, params)}`,
  );
}

function createClient(): KensaClient {
  if (window.kensaBridge) return electronClient(window.kensaBridge);
  return httpClient(takeToken());
}

export const api: KensaClient = createClient();
export type { KensaEvents };
