import type { Migration } from './index.ts';

/**
 * How a run's decision threshold (runs.threshold, on P(defect) = 1 - P(OK)) was chosen: the user's aim ("miss no
 * defect", balanced, "fewest false alarms", or set by hand), whether validation decided it, and its validation
 * counts, as JSON (shared/operating-point.ts OperatingPointChoice). Null for runs from before it was kept.
 */
export const m005OperatingPoint: Migration = {
  version: 5,
  name: 'operating-point',
  up(db) {
    db.exec('ALTER TABLE runs ADD COLUMN operating_point TEXT');
  },
};
