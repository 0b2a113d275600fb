import type { Migration } from './index.ts';

/** The five defect types every project starts with (OK + the four defects of the study). */
export const SEED_DEFECT_TYPES = [
  { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#2e9e5b', hotkey: '0', isOk: 1 },
  { key: 'scratch', nameEn: 'scratch', nameJa: '傷', color: '#e5484d', hotkey: '1', isOk: 0 },
  { key: 'dent', nameEn: 'dent', nameJa: '打痕', color: '#f2a33a', hotkey: '2', isOk: 0 },
  { key: 'chip', nameEn: 'chip', nameJa: '欠け', color: '#8e4ec6', hotkey: '3', isOk: 0 },
  { key: 'sheet_shift', nameEn: 'sheet shift', nameJa: '板ずれ', color: '#0091ff', hotkey: '4', isOk: 0 },
] as const;

/**
 * Catalog schema: defect types (seeded), import batches, images (content-addressed by sha256),
 * defect regions, the persisted undo/redo journal.
 */
export const m002Catalog: Migration = {
  version: 2,
  name: 'catalog',
  up(db) {
    db.exec(`
      CREATE TABLE defect_types (
        id         INTEGER PRIMARY KEY,
        key        TEXT NOT NULL UNIQUE,
        name_en    TEXT NOT NULL,
        name_ja    TEXT NOT NULL,
        color      TEXT NOT NULL,
        hotkey     TEXT UNIQUE,
        is_ok      INTEGER NOT NULL DEFAULT 0 CHECK (is_ok IN (0, 1)),
        sort_order INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE import_batches (
        id          INTEGER PRIMARY KEY,
        created_at  TEXT NOT NULL,
        finished_at TEXT,
        state       TEXT NOT NULL CHECK (state IN ('running', 'cancelled', 'interrupted', 'failed', 'done')),
        fingerprint TEXT NOT NULL,
        request     TEXT NOT NULL,
        imported    INTEGER NOT NULL DEFAULT 0,
        duplicates  INTEGER NOT NULL DEFAULT 0,
        skipped     INTEGER NOT NULL DEFAULT 0,
        report      TEXT
      ) STRICT;
      CREATE INDEX import_batches_fingerprint ON import_batches(fingerprint, state);

      CREATE TABLE images (
        id            INTEGER PRIMARY KEY,
        sha256        TEXT NOT NULL UNIQUE,
        ext           TEXT NOT NULL,
        format        TEXT NOT NULL CHECK (format IN ('jpeg', 'png', 'bmp', 'tiff')),
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        channels      INTEGER NOT NULL,
        bit_depth     INTEGER NOT NULL,
        orientation   INTEGER NOT NULL DEFAULT 1,
        pages         INTEGER NOT NULL DEFAULT 1,
        page          INTEGER,
        byte_size     INTEGER NOT NULL,
        original_path TEXT NOT NULL,
        original_name TEXT NOT NULL,
        batch_id      INTEGER REFERENCES import_batches(id) ON DELETE SET NULL,
        imported_at   TEXT NOT NULL,
        label_id      INTEGER REFERENCES defect_types(id),
        core_type     TEXT NOT NULL DEFAULT 'unknown' CHECK (core_type IN ('stator', 'rotor', 'unknown')),
        note          TEXT NOT NULL DEFAULT '',
        review_state  TEXT NOT NULL DEFAULT 'unlabelled' CHECK (review_state IN ('unlabelled', 'labelled', 'reviewed')),
        split         TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'val', 'test')),
        group_key     TEXT,
        group_manual  INTEGER NOT NULL DEFAULT 0,
        region_count  INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX images_imported ON images(imported_at, id);
      CREATE INDEX images_name ON images(original_name COLLATE NOCASE, id);
      CREATE INDEX images_label ON images(label_id, id);
      CREATE INDEX images_split ON images(split, label_id);
      CREATE INDEX images_batch ON images(batch_id);
      CREATE INDEX images_group ON images(group_key) WHERE group_key IS NOT NULL;

      CREATE TABLE regions (
        id             INTEGER PRIMARY KEY,
        image_id       INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        defect_type_id INTEGER NOT NULL REFERENCES defect_types(id),
        kind           TEXT NOT NULL CHECK (kind IN ('rect', 'mask')),
        x              INTEGER NOT NULL,
        y              INTEGER NOT NULL,
        w              INTEGER NOT NULL CHECK (w > 0),
        h              INTEGER NOT NULL CHECK (h > 0),
        rle            BLOB,
        source         TEXT NOT NULL DEFAULT 'user',
        created_at     TEXT NOT NULL
      ) STRICT;
      CREATE INDEX regions_image ON regions(image_id);
      CREATE INDEX regions_type ON regions(defect_type_id);

      CREATE TRIGGER regions_count_ins AFTER INSERT ON regions BEGIN
        UPDATE images SET region_count = region_count + 1 WHERE id = NEW.image_id;
      END;
      CREATE TRIGGER regions_count_del AFTER DELETE ON regions BEGIN
        UPDATE images SET region_count = region_count - 1 WHERE id = OLD.image_id;
      END;

      CREATE TABLE edit_journal (
        id         INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        action     TEXT NOT NULL,
        summary    TEXT NOT NULL,
        changes    TEXT NOT NULL,
        undone     INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1))
      ) STRICT;
      CREATE INDEX edit_journal_undone ON edit_journal(undone, id);
    `);
    const now = new Date().toISOString();
    const ins = db.prepare(
      'INSERT INTO defect_types(key, name_en, name_ja, color, hotkey, is_ok, sort_order, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    SEED_DEFECT_TYPES.forEach((t, i) => ins.run(t.key, t.nameEn, t.nameJa, t.color, t.hotkey, t.isOk, i, now));
  },
};
