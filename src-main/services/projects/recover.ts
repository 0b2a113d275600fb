/**
 * What a project's catalog says was in progress when the last Kensa on it stopped. One Kensa per project (the lock),
 * so at open nothing in the catalog can still be running: an import batch left 'running' is 'interrupted' (the same
 * import resumes it), a training run left 'queued' or 'running' is 'failed' with the reason. Called by every open
 * (app start, browser-mode server, each CLI command), so no entry point shows a run as running that is not.
 */
import type { Db } from '../db/open.ts';
import { markInterrupted } from '../db/repos/batches.ts';
import { failInterruptedRuns } from '../db/repos/runs.ts';

export interface Recovered {
  importBatches: number;
  runs: number;
}

export function recoverInterrupted(db: Db): Recovered {
  return db.transaction((): Recovered => {
    const importBatches = markInterrupted(db);
    const runs = failInterruptedRuns(db);
    return { importBatches, runs };
  })();
}
