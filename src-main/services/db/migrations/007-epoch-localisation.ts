import type { Migration } from './index.ts';

/**
 * Per-epoch localisation of a run (CAM pointing game and energy in region of the validation images that have
 * regions, overall and per class; EpochMetrics' valPointing… fields) as JSON on run_epochs. Null for epochs of
 * runs without regions and of runs from before it was measured.
 */
export const m007EpochLocalisation: Migration = {
  version: 7,
  name: 'epoch-localisation',
  up(db) {
    db.exec('ALTER TABLE run_epochs ADD COLUMN localisation TEXT');
  },
};
