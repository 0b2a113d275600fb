import { FileExistsError } from '../shared/errors.ts';

/** Runs an export for the CLI: a target that exists is refused with a message that names `--force`. */
export async function refuseUnlessForced<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as Error).name !== 'FileExistsError') throw err;
    throw new FileExistsError(
      `${(err as Error).message} Nothing was written; add --force to overwrite it.`,
      (err as FileExistsErrorLike).detail,
    );
  }
}

interface FileExistsErrorLike {
  detail?: unknown;
}
