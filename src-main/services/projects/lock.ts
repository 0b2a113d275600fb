import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProjectLockedError } from '../../shared/errors.ts';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One Kensa per project: a lock file created exclusively. A lock left by a crashed instance on this
 * machine (its process is gone) is taken over; one held by a live process is refused.
 */
export function acquireLock(dir: string): () => void {
  const file = join(dir, 'kensa.lock');
  const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return () => {
        try {
          const held = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
          if (held.pid === process.pid) unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let held: LockInfo | null;
      try {
        held = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
      } catch {
        held = null;
      }
      const stale = !held || (held.host === info.host && held.pid !== process.pid && !alive(held.pid));
      if (held && held.pid === process.pid && held.host === info.host) {
        throw new ProjectLockedError('This project is already open in this window.', { dir });
      }
      if (!stale) {
        throw new ProjectLockedError(
          `This project is in use by another Kensa (process ${held!.pid} on ${held!.host}, since ${held!.since}). ` +
            'Close it there first, or open a copy.',
          { dir, ...held },
        );
      }
      unlinkSync(file);
    }
  }
  throw new ProjectLockedError('Could not take the project lock.', { dir });
}
