/**
 * Best-epoch choice "best accuracy among the epochs whose pointing is within 2 points of the best" (config
 * `bestEpoch: 'accuracyNearBestPointing'`): a model that is as right but looks at the defects is preferred over one
 * that is marginally more right for other reasons.
 *
 * Decided online, epoch by epoch, because the trainer keeps one checkpoint: an epoch becomes the checkpoint when
 * its pointing lies within the window below the best pointing seen so far and its validation accuracy is higher
 * (ties: lower validation loss), or when a new best pointing pushes the current checkpoint out of the window.
 * This is the offline rule's choice whenever the best pointing is reached no later than the chosen epoch.
 */

/** Pointing window: 2 percentage points. */
export const POINTING_WINDOW = 0.02;

export class PointingBestEpoch {
  private maxPointing = -Infinity;
  private best: { acc: number; loss: number; pointing: number } | null = null;

  /** Whether the epoch (validation accuracy, loss, pointing; pointing null = not measured) becomes the checkpoint. */
  consider(acc: number, loss: number, pointing: number | null | undefined): boolean {
    if (pointing === null || pointing === undefined || !Number.isFinite(pointing)) return this.best === null;
    this.maxPointing = Math.max(this.maxPointing, pointing);
    const inWindow = (p: number) => p >= this.maxPointing - POINTING_WINDOW - 1e-9;
    const b = this.best;
    const better =
      !b || !inWindow(b.pointing) || (inWindow(pointing) && (acc > b.acc || (acc === b.acc && Number.isFinite(loss) && !(loss >= b.loss))));
    if (better) this.best = { acc, loss, pointing };
    return better;
  }

  /** The checkpoint was measured again (fine-tuning baseline): its figures replace the kept ones. */
  rebase(acc: number, loss: number, pointing: number | null | undefined): void {
    if (pointing === null || pointing === undefined || !Number.isFinite(pointing)) return;
    this.maxPointing = Math.max(this.maxPointing, pointing);
    this.best = { acc, loss, pointing };
  }
}
