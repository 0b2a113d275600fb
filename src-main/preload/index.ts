// Preload: one named method per API operation through contextBridge; never raw ipcRenderer.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { apiOperations, type EventName, type KensaEvents } from '../shared/api/index.ts';
import type { Envelope } from '../shared/errors.ts';

const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
for (const op of apiOperations) {
  api[op] = async (...args: unknown[]) => {
    const env = (await ipcRenderer.invoke(`kensa:${op}`, ...args)) as Envelope<unknown>;
    // Errors cannot cross contextBridge with their names intact: send the envelope and let the
    // renderer client rethrow, so the name survives.
    return env;
  };
}

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
ipcRenderer.on('kensa:event', (_e, event: EventName, payload: unknown) => {
  for (const l of listeners.get(event) ?? []) l(payload);
});

contextBridge.exposeInMainWorld('kensaBridge', {
  ...api,
  /** Electron no longer puts a path on dropped File objects; drag-and-drop import needs it. */
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
  subscribe<E extends EventName>(event: E, listener: (payload: KensaEvents[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  },
});
