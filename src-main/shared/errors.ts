/**
 * Errors that cross the API boundary. Services throw these; transports serialise them as
 * `{ ok: false, error: { name, message } }` and clients rethrow them with the same name, so the UI
 * can tell a CorruptImageError from an OutOfMemoryError without parsing messages.
 */
export interface SerializedError {
  name: string;
  message: string;
  /** Optional machine-readable detail (e.g. the path that failed); must be JSON-serialisable. */
  detail?: unknown;
}

export class KensaError extends Error {
  detail?: unknown;
  constructor(message: string, detail?: unknown) {
    super(message);
    // Subclasses set `name` via the static list below so minified builds keep stable names.
    this.name = 'KensaError';
    if (detail !== undefined) this.detail = detail;
  }
}

function defineError(name: string): new (message: string, detail?: unknown) => KensaError {
  const cls = class extends KensaError {
    constructor(message: string, detail?: unknown) {
      super(message, detail);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

export const NoProjectOpenError = defineError('NoProjectOpenError');
export const ProjectNotFoundError = defineError('ProjectNotFoundError');
export const NotAProjectError = defineError('NotAProjectError');
export const ProjectExistsError = defineError('ProjectExistsError');
export const ProjectLockedError = defineError('ProjectLockedError');
export const ReadOnlyFolderError = defineError('ReadOnlyFolderError');
export const DatabaseTooNewError = defineError('DatabaseTooNewError');
export const CorruptDatabaseError = defineError('CorruptDatabaseError');
export const CorruptImageError = defineError('CorruptImageError');
export const UnsupportedImageError = defineError('UnsupportedImageError');
export const OutOfMemoryError = defineError('OutOfMemoryError');
export const BackendUnavailableError = defineError('BackendUnavailableError');
export const ModelWeightsError = defineError('ModelWeightsError');
export const CancelledError = defineError('CancelledError');
export const ValidationError = defineError('ValidationError');
export const NotFoundError = defineError('NotFoundError');
export const EngineCrashedError = defineError('EngineCrashedError');
export const ConflictError = defineError('ConflictError');

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name || 'Error', message: err.message };
    const detail = (err as { detail?: unknown }).detail;
    if (detail !== undefined) out.detail = detail;
    // Native TensorFlow and V8 report memory exhaustion in several ways; one name for the UI.
    if (/out of memory|OOM|allocation failed|Array buffer allocation failed/i.test(err.message) && out.name === 'Error') {
      out.name = 'OutOfMemoryError';
    }
    return out;
  }
  return { name: 'Error', message: String(err) };
}

/** Rebuilds an Error carrying the original name (used by every API client). */
export function deserializeError(e: SerializedError): Error {
  const err = new KensaError(e.message, e.detail);
  err.name = e.name;
  return err;
}

/** The envelope every transport uses for a call's outcome. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: SerializedError };
