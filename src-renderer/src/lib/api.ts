import { apiOperations, type EventName, type KensaClient, type KensaEvents, type MediaKind } from '../../../src-main/shared/api/index.ts';
import { deserializeError, type Envelope } from '../../../src-main/shared/errors.ts';

type Listener = (payload: unknown) => void;

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

function queryString(params?: Record<string, string | number>): string {
  if (!params) return '';
  const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  return q.size ? `?${q}` : '';
}

function electronClient(bridge: PreloadBridge): KensaClient {
  const client: Record<string, unknown> = {};
  for (const op of apiOperations) client[op] = async (...args: unknown[]) => unwrap(await bridge[op]!(...args));
  client.subscribe = (event: EventName, l: Listener) => bridge.subscribe(event, l);
  client.mediaUrl = (kind: MediaKind, id: string, params?: Record<string, string | number>) =>
    `kensa-media://${kind}/${encodeURIComponent(id)}${queryString(params)}`;
  return client as unknown as KensaClient;
}

/** Browser mode: HTTP for calls (token in a header), one WebSocket for events, reconnecting. */
function httpClient(token: string): KensaClient {
  const listeners = new Map<EventName, Set<Listener>>();
  let socket: WebSocket | null = null;
  const connect = (): void => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${proto}://${location.host}/events?token=${encodeURIComponent(token)}`);
    socket.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as { event: EventName; payload: unknown };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    socket.onclose = () => setTimeout(connect, 1000);
  };
  connect();

  const client: Record<string, unknown> = {};
  for (const op of apiOperations) {
    client[op] = async (...args: unknown[]) => {
      const res = await fetch(`/api/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-kensa-token': token },
        body: JSON.stringify(args),
      });
      return unwrap((await res.json()) as Envelope<unknown>);
    };
  }
  client.subscribe = (event: EventName, l: Listener) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(l);
    return () => set.delete(l);
  };
  client.mediaUrl = (kind: MediaKind, id: string, params?: Record<string, string | number>) =>
    `/media/${kind}/${encodeURIComponent(id)}${queryString(params)}`;
  return client as unknown as KensaClient;
}

function createClient(): KensaClient {
  if (window.kensaBridge) return electronClient(window.kensaBridge);
  const meta = document.querySelector<HTMLMetaElement>('meta[name="kensa-token"]');
  const token = meta?.content ?? new URLSearchParams(location.search).get('token') ?? '';
  return httpClient(token);
}

export const api: KensaClient = createClient();
export type { KensaEvents };
