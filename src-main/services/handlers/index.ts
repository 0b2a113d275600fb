import type { KensaApi, OperationName } from '../../shared/api/index.ts';
import { apiOperations } from '../../shared/api/index.ts';
import { serializeError, type Envelope } from '../../shared/errors.ts';
import type { Services } from '../services.ts';
import { appHandlers } from './app.ts';
import { libraryHandlers } from './library.ts';
import { heatmapsHandlers } from './heatmaps.ts';
import { inspectHandlers } from './inspect.ts';
import { trainingHandlers } from './training.ts';

/** Every operation of the contract, implemented by the services. */
export function createHandlers(s: Services): KensaApi {
  return {
    ...appHandlers(s),
    ...libraryHandlers(s),
    ...trainingHandlers(s),
    ...heatmapsHandlers(s),
    ...inspectHandlers(s),
  };
}

export function isOperation(name: string): name is OperationName {
  return (apiOperations as readonly string[]).includes(name);
}

/** The one place that turns a call into the `{ok, value | error}` envelope both transports send. */
export async function invoke(handlers: KensaApi, name: string, args: unknown[]): Promise<Envelope<unknown>> {
  try {
    if (!isOperation(name)) throw Object.assign(new Error(`Unknown operation: ${name}`), { name: 'NotFoundError' });
    const fn = handlers[name] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn(...args);
    return { ok: true, value: value ?? null };
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
