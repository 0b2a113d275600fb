import type { Migration } from './index.ts';

/**
 * Training runs: parameters, dataset snapshot (image ids per split with their labels at the time),
 * per-epoch and per-batch metrics, evaluations and the model folder. Written only by the main side.
 */
export const m003Runs: Migration = {
  version: 3,
  name: 'runs',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'imported')),
        task           TEXT NOT NULL CHECK (task IN ('binary', 'multiclass')),
        backbone       TEXT NOT NULL,
        input_size     INTEGER NOT NULL,
        weights_source TEXT NOT NULL,
        config         TEXT NOT NULL,
        classes        TEXT NOT NULL,
        backend        TEXT,
        parent_run_id  INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        task_id        TEXT,
        model_dir      TEXT,
        threshold      REAL,
        val_accuracy   REAL,
        val_loss       REAL,
        test_accuracy  REAL,
        phases         TEXT,
        durations      TEXT,
        error          TEXT,
        created_at     TEXT NOT NULL,
        started_at     TEXT,
        finished_at    TEXT
      ) STRICT;
      CREATE INDEX runs_created ON runs(created_at);

      CREATE TABLE run_samples (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id    INTEGER REFERENCES images(id) ON DELETE SET NULL,
        sha256      TEXT NOT NULL,
        label       TEXT NOT NULL,
        class_index INTEGER NOT NULL,
        split       TEXT NOT NULL CHECK (split IN ('train', 'val', 'test'))
      ) STRICT;
      CREATE INDEX run_samples_run ON run_samples(run_id, split);
      CREATE INDEX run_samples_image ON run_samples(image_id);

      CREATE TABLE run_epochs (
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        phase         TEXT NOT NULL CHECK (phase IN ('transfer', 'finetune')),
        epoch         INTEGER NOT NULL,
        global_epoch  INTEGER NOT NULL,
        loss          REAL NOT NULL,
        accuracy      REAL NOT NULL,
        val_loss      REAL,
        val_accuracy  REAL,
        learning_rate REAL NOT NULL,
        duration_ms   INTEGER NOT NULL,
        PRIMARY KEY (run_id, phase, epoch)
      ) STRICT;

      CREATE TABLE run_batches (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        phase  TEXT NOT NULL,
        epoch  INTEGER NOT NULL,
        losses BLOB NOT NULL,
        PRIMARY KEY (run_id, phase, epoch)
      ) STRICT;

      CREATE TABLE run_evaluations (
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split      TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        accuracy   REAL,
        loss       REAL,
        metrics    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, split)
      ) STRICT;
    `);
  },
};
