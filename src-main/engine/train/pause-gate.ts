/**
 * Pause switch for a job in the engine: the main side flips it by message, the trainer awaits
 * {@link PauseGate.wait} between batches. Waiting is a promise (no polling); an abort ends it.
 */
export class PauseGate {
  private since: number | null = null;
  private totalMs = 0;
  private waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.since !== null;
  }

  /** Milliseconds spent paused so far (the current pause included). */
  get pausedMs(): number {
    return this.totalMs + (this.since !== null ? Date.now() - this.since : 0);
  }

  set(paused: boolean): void {
    if (paused === this.paused) return;
    if (paused) {
      this.since = Date.now();
      return;
    }
    this.totalMs += Date.now() - this.since!;
    this.since = null;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at once when not paused, else on resume or when the signal aborts (the caller checks it). */
  wait(signal: AbortSignal): Promise<void> {
    if (!this.paused || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
