import type { Migration } from './index.ts';

/**
 * Heatmaps: the prediction of each image under a run (filled in as heatmaps are computed) and the
 * localisation score of each heatmap against the image's defect regions. Maps themselves live in
 * the project's cache/heatmaps/ folder.
 */
export const m004Heatmaps: Migration = {
  version: 4,
  name: 'heatmaps',
  up(db) {
    db.exec(`
      CREATE TABLE heatmap_predictions (
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        probabilities TEXT NOT NULL,
        predicted     INTEGER NOT NULL,
        confidence    REAL NOT NULL,
        PRIMARY KEY (run_id, image_id)
      ) STRICT;
      CREATE TABLE heatmap_scores (
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        method     TEXT NOT NULL,
        class_key  TEXT NOT NULL,
        params_key TEXT NOT NULL,
        pointing   INTEGER NOT NULL,
        energy     REAL NOT NULL,
        area       REAL NOT NULL,
        PRIMARY KEY (run_id, image_id, method, class_key, params_key)
      ) STRICT;
    `);
  },
};
