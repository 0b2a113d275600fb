import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendReport } from '../../shared/types.ts';
import { BackendUnavailableError } from '../../shared/errors.ts';

/** Path of the probe script; overridden in the Electron build where sources are bundled. */
export const probeScript = { path: fileURLToPath(new URL('../../engine/backend/probe-main.ts', import.meta.url)) };

/** Runs the backend probe in a short-lived child process and returns its report. */
export function probeBackendsInChild(timeoutMs = 60_000): Promise<BackendReport> {
  return new Promise((resolve, reject) => {
    const child = fork(probeScript.path, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill();
      reject(new BackendUnavailableError('The TensorFlow backend probe did not answer in time.'));
    }, timeoutMs);
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg as BackendReport);
      child.kill();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new BackendUnavailableError(
          `The TensorFlow backend probe exited (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
        ),
      );
    });
  });
}
