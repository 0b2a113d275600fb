import type { Database } from 'better-sqlite3';
import { m001Core } from './001-core.ts';
import { m002Catalog } from './002-catalog.ts';
import { m003Runs } from './003-runs.ts';
import { m004Heatmaps } from './004-heatmaps.ts';
import { m005OperatingPoint } from './005-operating-point.ts';
import { m006AnomalyTask } from './006-anomaly-task.ts';
import { m007EpochLocalisation } from './007-epoch-localisation.ts';

export interface Migration {
  /** The PRAGMA user_version this migration brings the database to. */
  version: number;
  name: string;
  up(db: Database): void;
}

/** Every schema version in order; one file per version, each applied in its own transaction. */
export const migrations: Migration[] = [
  m001Core,
  m002Catalog,
  m003Runs,
  m004Heatmaps,
  m005OperatingPoint,
  m006AnomalyTask,
  m007EpochLocalisation,
];

export const LATEST_SCHEMA_VERSION = migrations.length;
