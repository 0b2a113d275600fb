/**
 * Inspect: the active (or a chosen) model over catalog images or folders of new photos, as a cancellable
 * task, on top of the training service's predict and the catalog's import. Results live in memory per
 * open project (the latest few inspections); photos given by path are shown through media kind 'file'.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type {
  AddToCatalogResult,
  InspectApi,
  InspectItem,
  InspectRequest,
  InspectSkip,
  Inspection,
  InspectionSummary,
} from '../../shared/api/inspect.ts';
import type { ImageFormat } from '../../shared/catalog-types.ts';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import type { ClassInfo, PredictResult } from '../../shared/training-types.ts';
import { openImageBytes, makeThumbnail, sniffFormat } from '../catalog/imaging.ts';
import { collectEntries, runImport } from '../catalog/import.ts';
import { setLabel } from '../catalog/edits.ts';
import { trainingService } from '../ml/training-service.ts';
import type { Services } from '../services.ts';

export const INSPECT_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff']);
const CHUNK = 16;
const KEEP = 20;

/** P(defect) = 1 - P(OK) when the model has an OK class. */
export function defectScore(classes: ClassInfo[], probabilities: number[]): number | null {
  const ok = classes.findIndex((c) => c.isOk);
  if (ok < 0) return null;
  return 1 - (probabilities[ok] ?? 0);
}

/**
 * OK/NG for one image. With a threshold and an OK class: NG when P(defect) >= threshold. Otherwise NG when
 * the predicted class is not OK (a model without an OK class calls everything a defect of some type).
 */
export function verdictOf(classes: ClassInfo[], predicted: number, score: number | null, threshold: number | null): 'ok' | 'ng' {
  if (score !== null && threshold !== null) return score >= threshold ? 'ng' : 'ok';
  return classes[predicted]?.isOk ? 'ok' : 'ng';
}

/** Predicted class at a threshold (binary models: the threshold decides; else the most probable class). */
export function predictedAt(classes: ClassInfo[], probabilities: number[], threshold: number | null): number {
  const ok = classes.findIndex((c) => c.isOk);
  if (classes.length === 2 && ok >= 0 && threshold !== null) return 1 - (probabilities[ok] ?? 0) >= threshold ? 1 - ok : ok;
  let best = 0;
  probabilities.forEach((p, i) => {
    if (p > (probabilities[best] ?? -1)) best = i;
  });
  return best;
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV of an inspection: one row per image, probabilities per class at the end. */
export function inspectionToCsv(ins: Inspection): string {
  const head = [
    'index',
    'name',
    'path',
    'image_id',
    'label',
    'predicted',
    'confidence',
    'p_defect',
    'verdict',
    'threshold',
    ...ins.classes.map((c) => `prob_${c.key}`),
  ];
  const rows = ins.items.map((it) =>
    [
      it.index,
      it.name,
      it.path,
      it.imageId,
      it.labelKey,
      it.predictedKey,
      it.confidence.toFixed(6),
      it.defectScore === null ? null : it.defectScore.toFixed(6),
      it.verdict.toUpperCase(),
      ins.threshold,
      ...it.probabilities.map((p) => p.toFixed(6)),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[head.join(','), ...rows].join('\r\n')}\r\n`;
}

/** Re-derives predicted class and verdict of every item at a threshold. */
export function applyThreshold(ins: Inspection, threshold: number | null): Inspection {
  const items = ins.items.map((it) => {
    const predicted = predictedAt(ins.classes, it.probabilities, threshold);
    return {
      ...it,
      predicted,
      predictedKey: ins.classes[predicted]?.key ?? it.predictedKey,
      confidence: it.probabilities[predicted] ?? it.confidence,
      verdict: verdictOf(ins.classes, predicted, it.defectScore, threshold),
    };
  });
  return { ...ins, threshold, items };
}

interface ProjectState {
  dir: string;
  inspections: Map<string, Inspection>;
}

const states = new WeakMap<Services, ProjectState>();
const wired = new WeakSet<Services>();

function stateOf(s: Services): ProjectState {
  const dir = s.projects.require().dir;
  let st = states.get(s);
  if (!st || st.dir !== dir) {
    st = { dir, inspections: new Map() };
    states.set(s, st);
  }
  return st;
}

function getInspectionOf(s: Services, id: string): Inspection {
  const ins = stateOf(s).inspections.get(String(id));
  if (!ins) throw new NotFoundError(`No inspection ${id} (results are kept while the project is open).`);
  return ins;
}

function store(s: Services, ins: Inspection): void {
  const m = stateOf(s).inspections;
  m.set(ins.id, ins);
  while (m.size > KEEP) m.delete(m.keys().next().value!);
}

/** Thumbnail of a photo given by path (any format the catalog reads), cached in the project's cache folder. */
async function fileThumb(s: Services, path: string): Promise<{ path: string; mime: string }> {
  const project = s.projects.require();
  const st = statSync(path);
  const key = createHash('sha1').update(`${path}|${st.size}|${st.mtimeMs}`).digest('hex');
  const out = join(project.paths.cache, 'inspect', `${key}.jpg`);
  if (!existsSync(out)) {
    const buf = readFileSync(path);
    const fmt = sniffFormat(buf);
    if (!fmt || fmt === 'other-image') throw new NotFoundError(`${path} is not an image Kensa can show.`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, await makeThumbnail(openImageBytes(buf, fmt as ImageFormat)));
  }
  return { path: out, mime: 'image/jpeg' };
}

function wire(s: Services): void {
  if (wired.has(s)) return;
  wired.add(s);
  // Media ids: "<inspection id>/<index>" (never a raw path from the client).
  s.registerMedia('file', (id) => {
    const [insId, idx] = id.split('/');
    const item = getInspectionOf(s, insId ?? '').items[Number(idx)];
    if (!item?.path) throw new NotFoundError(`No inspected file ${id}`);
    return fileThumb(s, item.path);
  });
  s.projects.onClose(() => {
    states.delete(s);
  });
}

/** Files to inspect from the request's paths (folders walked), with what is left out and why. */
export function collectInspectFiles(paths: string[]): { files: string[]; skipped: InspectSkip[] } {
  const files: string[] = [];
  const skipped: InspectSkip[] = [];
  for (const e of collectEntries({ paths })) {
    if (INSPECT_EXTENSIONS.has(extname(e.path).toLowerCase())) files.push(e.path);
    else skipped.push({ path: e.path, code: 'not-an-image', reason: 'not an image file (JPEG, PNG, BMP or TIFF)' });
  }
  return { files, skipped };
}

function labelKeys(s: Services, ids: number[]): Map<number, string | null> {
  const db = s.projects.require().db;
  const out = new Map<number, string | null>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = db
      .prepare(
        `SELECT i.id AS id, d.key AS key FROM images i LEFT JOIN defect_types d ON d.id = i.label_id WHERE i.id IN (${part.map(() => '?').join(',')})`,
      )
      .all(...part) as { id: number; key: string | null }[];
    for (const r of rows) out.set(r.id, r.key);
  }
  return out;
}

function imageNames(s: Services, ids: number[]): Map<number, string> {
  const db = s.projects.require().db;
  const out = new Map<number, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = db.prepare(`SELECT id, original_name AS name FROM images WHERE id IN (${part.map(() => '?').join(',')})`).all(...part) as {
      id: number;
      name: string;
    }[];
    for (const r of rows) out.set(r.id, r.name);
  }
  return out;
}

export function inspectHandlers(s: Services): InspectApi {
  wire(s);
  const training = () => trainingService(s);

  return {
    async startInspection(request: InspectRequest) {
      const project = s.projects.require();
      const req = request ?? {};
      const imageIds = (req.imageIds ?? []).map(Number);
      if (imageIds.some((n) => !Number.isInteger(n) || n <= 0)) throw new ValidationError('Image ids must be whole numbers.');
      const { files, skipped } = req.paths?.length
        ? collectInspectFiles(req.paths.map((p) => resolve(String(p))))
        : { files: [], skipped: [] };
      const total = imageIds.length + files.length;
      if (!total) throw new ValidationError('There are no images to inspect in what you chose (JPEG, PNG, BMP or TIFF).');
      const t = training();
      const runId = req.runId ?? t.getActive()?.id;
      if (runId === undefined || runId === null)
        throw new ValidationError('No active model: train a model, or set one as active on the Runs screen.');
      const run = t.get(runId);
      if (!run.hasModel) throw new ValidationError(`Run ${runId} has no saved model.`);
      if (req.threshold !== undefined && !(req.threshold >= 0 && req.threshold <= 1))
        throw new ValidationError('The threshold must be between 0 and 1.');
      const st = stateOf(s);
      const id = randomUUID().slice(0, 8);
      const targets: ({ imageId: number } | { path: string })[] = [
        ...imageIds.map((i) => ({ imageId: i })),
        ...files.map((p) => ({ path: p })),
      ];

      return s.tasks.start(
        'inspect',
        `Inspect ${total.toLocaleString('en')} image${total === 1 ? '' : 's'} with “${run.name}”`,
        async (ctx) => {
          const started = Date.now();
          const classes = run.classInfo;
          const labels = labelKeys(s, imageIds);
          const names = imageNames(s, imageIds);
          let modelThreshold: number | null = null;
          const items: InspectItem[] = [];
          const skip: InspectSkip[] = [...skipped];
          const toItems = (res: PredictResult, part: typeof targets): void => {
            modelThreshold = res.threshold;
            res.predictions.forEach((p, k) => {
              const target = part[k]!;
              const index = items.length;
              const score = defectScore(classes, p.probabilities);
              const path = 'path' in target ? target.path : null;
              const imageId = 'imageId' in target ? target.imageId : null;
              items.push({
                index,
                imageId,
                path,
                name: path ? basename(path) : (names.get(imageId!) ?? `#${imageId}`),
                media: path ? { kind: 'file', id: `${id}/${index}` } : { kind: 'thumb', id: String(imageId) },
                labelKey: imageId !== null ? (labels.get(imageId) ?? null) : null,
                predicted: p.predicted,
                predictedKey: p.predictedKey,
                confidence: p.probabilities[p.predicted] ?? 0,
                probabilities: p.probabilities,
                defectScore: score,
                verdict: 'ok',
              });
            });
          };
          const predictPart = (part: typeof targets) =>
            t.predict(
              {
                imageIds: part.flatMap((x) => ('imageId' in x ? [x.imageId] : [])),
                paths: part.flatMap((x) => ('path' in x ? [x.path] : [])),
              },
              runId,
              ctx.signal,
            );
          ctx.progress(0, total, 'images');
          let partial = false;
          try {
            for (let i = 0; i < targets.length; i += CHUNK) {
              ctx.throwIfCancelled();
              // Catalog ids and paths are predicted in separate calls so results map back in order.
              const chunk = targets.slice(i, i + CHUNK);
              const groups = [chunk.filter((x) => 'imageId' in x), chunk.filter((x) => 'path' in x)].filter((g) => g.length);
              for (const g of groups) {
                try {
                  toItems(await predictPart(g), g);
                } catch (err) {
                  if (ctx.signal.aborted) throw err;
                  // One unreadable photo should not sink the batch: retry one by one, skipping failures.
                  for (const one of g) {
                    try {
                      toItems(await predictPart([one]), [one]);
                    } catch (e) {
                      if (ctx.signal.aborted) throw e;
                      skip.push({
                        path: 'path' in one ? one.path : `#${one.imageId}`,
                        code: 'failed',
                        reason: `${(e as Error).name}: ${(e as Error).message}`,
                      });
                    }
                  }
                }
              }
              ctx.progress(Math.min(total, i + chunk.length), total, 'images');
            }
          } catch (err) {
            if (!ctx.signal.aborted && (err as Error).name !== 'CancelledError') throw err;
            partial = true;
          }
          const elapsedMs = Date.now() - started;
          const threshold = req.threshold ?? modelThreshold ?? (classes.some((c) => c.isOk) && classes.length === 2 ? 0.5 : null);
          let ins: Inspection = {
            id,
            runId,
            runName: run.name,
            task: run.task,
            classes,
            threshold,
            modelThreshold,
            items,
            skipped: skip,
            createdAt: new Date(started).toISOString(),
            elapsedMs,
            imagesPerSecond: elapsedMs > 0 ? items.length / (elapsedMs / 1000) : 0,
            partial,
          };
          ins = applyThreshold(ins, threshold);
          if (stateOf(s) === st && project.isOpen) store(s, ins);
          const ng = ins.items.filter((x) => x.verdict === 'ng').length;
          ctx.update({
            message: `${ins.items.length} inspected, ${ng} NG, ${ins.imagesPerSecond.toFixed(1)} images/s`,
            step: { kind: 'inspect-done', inspected: ins.items.length, ng, imagesPerSecond: ins.imagesPerSecond },
            metrics: { imagesPerSecond: ins.imagesPerSecond },
          });
          return { inspectionId: id };
        },
        { queue: 'inspect', what: { kind: 'inspect', images: total, run: run.name } },
      );
    },

    async getInspection(id) {
      return getInspectionOf(s, id);
    },

    async listInspections() {
      return [...stateOf(s).inspections.values()].reverse().map((i): InspectionSummary => ({
        id: i.id,
        runId: i.runId,
        runName: i.runName,
        count: i.items.length,
        ng: i.items.filter((x) => x.verdict === 'ng').length,
        createdAt: i.createdAt,
      }));
    },

    async setInspectionThreshold(id, threshold) {
      if (threshold !== null && !(typeof threshold === 'number' && threshold >= 0 && threshold <= 1)) {
        throw new ValidationError('The threshold must be between 0 and 1.');
      }
      const ins = applyThreshold(getInspectionOf(s, id), threshold ?? getInspectionOf(s, id).modelThreshold);
      store(s, ins);
      return ins;
    },

    async inspectionCsv(id) {
      return inspectionToCsv(getInspectionOf(s, id));
    },

    async exportInspectionCsv(id, file) {
      if (!file || !String(file).trim()) throw new ValidationError('Choose a file to write the CSV to.');
      const ins = getInspectionOf(s, id);
      const out = resolve(String(file));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `\uFEFF${inspectionToCsv(ins)}`, 'utf8');
      return { file: out, rows: ins.items.length };
    },

    async addInspectedToCatalog(id, indices, defectTypeId) {
      const project = s.projects.require();
      const ins = getInspectionOf(s, id);
      if (defectTypeId !== null && !Number.isInteger(defectTypeId)) throw new ValidationError('Choose a label.');
      const chosen = [...new Set((indices ?? []).map(Number))].map((i) => ins.items[i]).filter((x): x is InspectItem => !!x);
      if (!chosen.length) throw new ValidationError('Select the images to add first.');
      const result: AddToCatalogResult = { imported: 0, duplicates: 0, labelled: 0, imageIds: [], skipped: [] };
      const byPath = new Map<string, InspectItem>();
      for (const it of chosen) if (it.path && it.imageId === null) byPath.set(resolve(it.path), it);
      const ids: number[] = chosen.filter((x) => x.imageId !== null).map((x) => x.imageId!);
      if (byPath.size) {
        const report = await runImport(project, { paths: [...byPath.keys()], labels: { from: 'none' } });
        result.imported = report.imported;
        result.duplicates = report.duplicates.length;
        result.skipped = report.skipped.map((k) => ({ path: k.path, code: k.reason, reason: k.message }));
        // Map created / duplicate images back onto the inspected files.
        const rows = report.imageIds.length
          ? (project.db
              .prepare(`SELECT id, original_path AS path FROM images WHERE id IN (${report.imageIds.map(() => '?').join(',')})`)
              .all(...report.imageIds) as { id: number; path: string }[])
          : [];
        for (const r of rows) {
          const it = byPath.get(resolve(r.path));
          if (it) it.imageId = r.id;
          ids.push(r.id);
        }
        for (const d of report.duplicates) {
          const it = byPath.get(resolve(d.path));
          if (it && it.imageId === null) it.imageId = d.imageId;
          ids.push(d.imageId);
        }
        s.events.emit('catalogChanged', { reason: 'import', imageIds: report.imageIds });
      }
      const unique = [...new Set(ids)];
      if (unique.length && defectTypeId !== null) {
        const edit = setLabel(project.db, unique, defectTypeId);
        result.labelled = edit.imageIds.length;
        s.events.emit('catalogChanged', { reason: 'labels', imageIds: unique });
        const key = project.db.prepare('SELECT key FROM defect_types WHERE id = ?').get(defectTypeId) as { key: string } | undefined;
        for (const it of ins.items) if (it.imageId !== null && unique.includes(it.imageId)) it.labelKey = key?.key ?? null;
      }
      result.imageIds = unique;
      store(s, ins);
      return result;
    },
  };
}
