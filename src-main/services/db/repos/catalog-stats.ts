/** The catalog's counts for the statistics panel: per split, review state, core type and label, and the totals. */
import type { LibraryStats, CoreType, ReviewState, Split } from '../../../shared/library-types.ts';
import type { Db } from '../open.ts';
import { distinctDuplicates } from './batches.ts';

function countBy<K extends string>(db: Db, column: 'split' | 'review_state' | 'core_type', into: Record<K, number>): Record<K, number> {
  // The column is one of three names fixed above, never input.
  for (const r of db.prepare(`SELECT ${column} AS k, COUNT(*) AS n FROM images GROUP BY ${column}`).all() as { k: K; n: number }[])
    into[r.k] = r.n;
  return into;
}

export function readLibraryStats(db: Db): LibraryStats {
  const perSplit = countBy<Split>(db, 'split', { train: 0, val: 0, test: 0 });
  const perReviewState = countBy<ReviewState>(db, 'review_state', { unlabelled: 0, labelled: 0, reviewed: 0 });
  const perCoreType = countBy<CoreType>(db, 'core_type', { stator: 0, rotor: 0, unknown: 0 });
  const perLabel = db
    .prepare(
      `SELECT t.key, t.name_en AS nameEn, t.name_ja AS nameJa, COUNT(i.id) AS total,
           COALESCE(SUM(i.split = 'train'), 0) AS train, COALESCE(SUM(i.split = 'val'), 0) AS val, COALESCE(SUM(i.split = 'test'), 0) AS test,
           AVG(CAST(i.width AS REAL) / NULLIF(i.height, 0)) AS aspect,
           COALESCE(SUM(i.split = 'train' AND i.region_count > 0), 0) AS trainWithRegions
         FROM defect_types t LEFT JOIN images i ON i.label_id = t.id GROUP BY t.id ORDER BY t.sort_order, t.id`,
    )
    .all() as LibraryStats['perLabel'];
  const n = (sql: string) => (db.prepare(sql).pluck().get() as number) ?? 0;
  return {
    total: n('SELECT COUNT(*) FROM images'),
    unlabelled: n('SELECT COUNT(*) FROM images WHERE label_id IS NULL'),
    perLabel,
    perSplit,
    perReviewState,
    perCoreType,
    regions: n('SELECT COUNT(*) FROM regions'),
    batches: n('SELECT COUNT(*) FROM import_batches'),
    duplicatesFound: distinctDuplicates(db),
  };
}
