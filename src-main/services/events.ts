import type { EventName, KensaEvents } from '../shared/api/index.ts';

type Listener<E extends EventName> = (payload: KensaEvents[E]) => void;

/** Typed in-process event bus; transports forward every event to their clients. */
export class EventBus {
  private listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  private anyListeners = new Set<(event: EventName, payload: unknown) => void>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Used by transports: one subscription forwards everything. */
  onAny(listener: (event: EventName, payload: unknown) => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: KensaEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
    for (const l of this.anyListeners) l(event, payload);
  }
}
