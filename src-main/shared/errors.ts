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

/**
 * Every error name the UI may receive from Kensa's own code; the renderer has a title and a what-to-do hint for each
 * in every language (its catalogs are typed against this list).
 */
export const ERROR_NAMES = [
  'NoProjectOpenError',
  'ProjectNotFoundError',
  'NotAProjectError',
  'ProjectExistsError',
  'ProjectLockedError',
  'ReadOnlyFolderError',
  'DatabaseTooNewError',
  'CorruptDatabaseError',
  'CorruptImageError',
  'UnsupportedImageError',
  'OutOfMemoryError',
  'BackendUnavailableError',
  'ModelWeightsError',
  'CancelledError',
  'ValidationError',
  'NotFoundError',
  'EngineCrashedError',
  'ConflictError',
  'UnauthorizedError',
  'FileExistsError',
  'PathNotFoundError',
  'SettingsFileError',
  'TilingUnsupportedError',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];

export function isKnownErrorName(name: string): name is ErrorName {
  return (ERROR_NAMES as readonly string[]).includes(name);
}

function defineError(name: ErrorName): new (message: string, detail?: unknown) => KensaError {
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
/** An export's target file or folder exists and the call did not say to overwrite it (detail: `{ path }`). */
export const FileExistsError = defineError('FileExistsError');
export const PathNotFoundError = defineError('PathNotFoundError');
/** The settings file could not be used as it was: set aside, defaults (and its valid keys) used (detail: SettingsWarning). */
export const SettingsFileError = defineError('SettingsFileError');
/** A run with resize 'tile' asked for what tiles do not support yet (detail: `{ what: 'guideRegions' | 'randomAugmentation' }`). */
export const TilingUnsupportedError = defineError('TilingUnsupportedError');

/**
 * Native TensorFlow ("OOM when allocating tensor"), the wasm heap ("Cannot enlarge memory", "Maximum memory size
 * exceeded") and V8 report memory exhaustion in several ways.
 */
export function isOutOfMemory(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'OutOfMemoryError' ||
    /out of memory|\bOOM\b|allocation failed|Cannot enlarge memory|Maximum memory size exceeded/i.test(err.message)
  );
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name || 'Error', message: err.message };
    const detail = (err as { detail?: unknown }).detail;
    if (detail !== undefined) out.detail = detail;
    if (out.name === 'Error' && isOutOfMemory(err)) {
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
