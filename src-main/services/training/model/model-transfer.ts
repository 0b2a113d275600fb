/** A model folder out of a project (export, each file atomically) and into one (import as a run). */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ValidationError } from '../../../shared/errors.ts';
import type { ExportResult } from '../../../shared/training-types.ts';
import * as runs from '../../db/repos/runs.ts';
import { checkTarget, copyFileAtomic } from '../../export-file.ts';
import type { Project } from '../../projects/project.ts';
import { resolveConfig } from '../train/config.ts';
import { parseBackbone } from './backbone-table.ts';
import { readModelJson } from './model-json.ts';
import { MODEL_INFO_FILE, modelFilesOf, readModelInfo } from './saved-model.ts';

/** Copies the model files of `src` into `dirIn`, each atomically; FileExistsError when one is there, unless `overwrite`. */
export function exportModelFolder(src: string, dirIn: string, opts: { overwrite?: boolean | undefined } = {}): ExportResult {
  const dir = resolve(dirIn);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ValidationError(`${dir} is a file. Choose a folder.`, { path: dir });
  const files = modelFilesOf(src);
  for (const f of files) checkTarget(join(dir, f), opts.overwrite);
  mkdirSync(dir, { recursive: true });
  // The description last: a folder with kensa-model.json is a whole model.
  for (const f of [...files.filter((x) => x !== MODEL_INFO_FILE), MODEL_INFO_FILE]) copyFileAtomic(join(src, f), join(dir, f), opts);
  return { dir, files };
}

/** Checks a model folder, records it as an imported run and copies its files under models/<run id>; returns the run id. */
export function importModelFolder(p: Project, dirIn: string): number {
  const dir = resolve(dirIn);
  const info = readModelInfo(dir);
  parseBackbone(info.backbone);
  readModelJson(dir);
  const config = resolveConfig({
    name: info.name || `Imported ${info.backbone}`,
    task: info.task,
    backbone: info.backbone,
    inputSize: info.inputSize,
    epochs: 0,
    fineTuneEpochs: 1,
  });
  const id = runs.insertImportedRun(p.db, {
    name: config.name,
    config,
    classInfo: info.classes,
    weightsSource: `imported from ${dir}`,
    threshold: info.threshold,
    operatingPoint: info.operatingPoint ?? null,
  });
  const rel = join('models', String(id));
  mkdirSync(join(p.dir, rel), { recursive: true });
  for (const f of readdirSync(dir)) if (modelFilesOf(dir).includes(f)) cpSync(join(dir, f), join(p.dir, rel, f));
  runs.setRunModelDir(p.db, id, rel);
  return id;
}
