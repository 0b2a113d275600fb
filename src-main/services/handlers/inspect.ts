/**
 * Inspect: the active (or a chosen) model over catalog images or folders of new photos, as a cancellable
 * task, on top of the training service's predict and the catalog's import. Results live in memory per
 * open project (the latest few inspections); photos given by path are shown through media kind 'file'.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type {
  AddToCatalogResult,
  InspectApi,
  InspectDefectType,
  InspectItem,
  InspectRequest,
  InspectSkip,
  Inspection,
  InspectionSummary,
} from '../../shared/api/inspect.ts';
import type { ImageFormat } from '../../shared/catalog-types.ts';
import { NotFoundError, ValidationError } from '../../shared/errors.ts';
import { decideClass } from '../../shared/operating-point.ts';
import type { ClassInfo, PredictResult, RunSummary } from '../../shared/training-types.ts';
import { classifyDecodeError, openImageBytes, makeThumbnail, sniffFormat } from '../catalog/imaging.ts';
import { collectEntries, runImport } from '../catalog/import.ts';
import { setLabel } from '../catalog/edits.ts';
import { CSV_BOM, toCsv, type CsvValue } from '../csv.ts';
import { checkTarget, writeFileAtomic } from '../export-file.ts';
import { fileHeatmap, heatmapMediaParams } from '../heatmaps/file-heatmap.ts';
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

/**
 * Predicted class at a threshold: with an OK class the threshold decides OK vs defect (then the most probable defect
 * type), as predict and the run report do (shared/operating-point.ts); without one, the most probable class.
 */
export function predictedAt(classes: ClassInfo[], probabilities: number[], threshold: number | null): number {
  const ok = classes.findIndex((c) => c.isOk);
  return decideClass(probabilities, ok >= 0 ? ok : null, threshold);
}

/**
 * An NG image's defect type is named only when the type classifier gives its most likely defect class at least this
 * probability (over all its classes, OK included); below it the image is of "unknown type".
 */
export const TYPE_MIN_PROBABILITY = 0.5;

/**
 * The defect type a classifier gives an image: its most likely defect (non-OK) class, known when that class's
 * probability is at least `minProbability`. A classifier that thinks the image is OK leaves it unknown (the anomaly
 * model saw a defect the classifier was never shown). Null when the classifier has no defect class.
 */
export function defectTypeOf(
  classes: ClassInfo[],
  probabilities: number[],
  minProbability = TYPE_MIN_PROBABILITY,
): InspectDefectType | null {
  let best = -1;
  for (let c = 0; c < classes.length; c++) {
    if (classes[c]!.isOk) continue;
    if (best < 0 || (probabilities[c] ?? 0) > (probabilities[best] ?? 0)) best = c;
  }
  if (best < 0) return null;
  const probability = probabilities[best] ?? 0;
  return { key: classes[best]!.key, probability, known: probability >= minProbability };
}

/** A run that can name defect types: a classifier (not anomaly) with a saved model and at least two defect classes. */
export function namesTypes(run: Pick<RunSummary, 'task' | 'hasModel'>, classes: ClassInfo[]): boolean {
  return run.task !== 'anomaly' && run.hasModel && classes.filter((c) => !c.isOk).length >= 2;
}

/** Type column of an NG image of unknown type in the CSV and the CLI. */
export const UNKNOWN_TYPE = 'UNKNOWN';

/** Skipped files that are rows of the results and the CSV: every unreadable one (not the files that are no images). */
export function unreadableOf(ins: Pick<Inspection, 'skipped'>): InspectSkip[] {
  return ins.skipped.filter((k) => k.code !== 'not-an-image');
}

/** Verdict column of an unreadable file's row (never OK, never NG: nobody looked at it). */
export const UNREADABLE_VERDICT = 'UNREADABLE';

/**
 * The CSV of an inspection (../csv.ts: RFC 4180, CRLF, cells neutralised): one row per image, then one per unreadable
 * file (verdict UNREADABLE, reason code and sentence), probabilities per class at the end.
 */
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
    'reason_code',
    'reason',
    ...(ins.typeRun ? ['defect_type', 'type_probability'] : []),
    ...ins.classes.map((c) => `prob_${c.key}`),
  ];
  const typeCells = (it: InspectItem): CsvValue[] =>
    !ins.typeRun
      ? []
      : it.defectType
        ? [it.defectType.known ? it.defectType.key : UNKNOWN_TYPE, it.defectType.probability.toFixed(6)]
        : [null, null];
  const rows: CsvValue[][] = ins.items.map((it) => [
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
    null,
    null,
    ...typeCells(it),
    ...it.probabilities.map((p) => p.toFixed(6)),
  ]);
  for (const k of unreadableOf(ins)) {
    const catalogId = /^#(\d+)$/.exec(k.path)?.[1];
    rows.push([
      null,
      catalogId ? k.path : basename(k.path),
      catalogId ? null : k.path,
      catalogId ? Number(catalogId) : null,
      null,
      null,
      null,
      null,
      UNREADABLE_VERDICT,
      ins.threshold,
      k.code,
      k.reason,
      ...(ins.typeRun ? [null, null] : []),
      ...ins.classes.map(() => null),
    ]);
  }
  return toCsv([head, ...rows]);
}

/** Re-derives predicted class and verdict of every item at a threshold. */
export function applyThreshold(ins: Inspection, threshold: number | null): Inspection {
  const items = ins.items.map((it) => {
    const predicted = predictedAt(ins.classes, it.probabilities, threshold);
    const verdict = verdictOf(ins.classes, predicted, it.defectScore, threshold);
    const typeRun = ins.typeRun;
    return {
      ...it,
      predicted,
      predictedKey: ins.classes[predicted]?.key ?? it.predictedKey,
      confidence: it.probabilities[predicted] ?? it.confidence,
      verdict,
      ...(typeRun && it.typeProbabilities
        ? { defectType: verdict === 'ng' ? defectTypeOf(typeRun.classes, it.typeProbabilities, typeRun.minProbability) : null }
        : {}),
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
  // Heatmap of an inspected photo given by path: "<inspection id>/<index>" again, so only photos of an inspection kept
  // in this project's store are mapped (with the inspection's run and the item's predicted class).
  s.registerMedia('inspect-heatmap', (id, params) => {
    const m = /^([\w-]+)\/(\d+)$/.exec(id);
    if (!m) throw new NotFoundError(`No inspected file ${id}`);
    const ins = getInspectionOf(s, m[1]!);
    const item = ins.items[Number(m[2])];
    if (!item?.path) throw new NotFoundError(`No inspected file ${id}`);
    return fileHeatmap(s, { runId: ins.runId, path: item.path, classIndex: item.predicted, ...heatmapMediaParams(params) });
  });
  s.projects.onClose(() => {
    states.delete(s);
  });
}

/** The first bytes of a file (enough for sniffFormat) and its size. */
function head(path: string): { bytes: Buffer; size: number } {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(64);
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, n), size: statSync(path).size };
  } finally {
    closeSync(fd);
  }
}

/** Why a file cannot be inspected, judged like the import does (same codes), or null when it looks like an image. */
export function precheckFile(path: string): InspectSkip | null {
  const ext = extname(path).toLowerCase();
  let h: { bytes: Buffer; size: number };
  try {
    h = head(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (code === 'ENOENT') return { path, code: 'missing', reason: 'The file does not exist (moved or deleted?).' };
    return { path, code: 'unreadable', reason: `Cannot read the file: ${code}` };
  }
  const fmt = sniffFormat(h.bytes);
  if (fmt && fmt !== 'other-image') return null;
  if (!INSPECT_EXTENSIONS.has(ext) && fmt === null)
    return { path, code: 'not-an-image', reason: `Not an image file (${ext || 'no extension'}).` };
  if (h.size === 0) return { path, code: 'empty', reason: 'The file is empty (0 bytes).' };
  if (fmt === 'other-image')
    return {
      path,
      code: 'unsupported',
      reason: `Unsupported image format (${ext || 'no extension'}). Kensa reads JPEG, PNG, BMP and TIFF.`,
    };
  return { path, code: 'corrupt', reason: `The file is named ${ext} but its content is not a readable image (damaged?).` };
}

/**
 * Files to inspect from the request's paths (folders walked), with what is left out and why. A path that does not
 * exist is reported ('missing') and the others are still inspected.
 */
export function collectInspectFiles(paths: string[]): { files: string[]; skipped: InspectSkip[] } {
  const files: string[] = [];
  const skipped: InspectSkip[] = [];
  const present: string[] = [];
  for (const p of paths) {
    try {
      statSync(p);
      present.push(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      skipped.push(
        code === 'ENOENT' || code === 'ENOTDIR'
          ? { path: p, code: 'missing', reason: 'No such file or folder (moved, renamed or not connected?).' }
          : { path: p, code: 'unreadable', reason: `Cannot read it: ${code}` },
      );
    }
  }
  for (const e of present.length ? collectEntries({ paths: present }) : []) {
    const why = precheckFile(e.path);
    if (why) skipped.push(why);
    else files.push(e.path);
  }
  return { files, skipped };
}

/** The skip code of a photo the engine could not read or predict. */
export function failureOf(path: string, err: unknown): InspectSkip {
  const e = err as Error;
  const text = `${e.name}: ${e.message}`;
  if (e.name === 'NotFoundError') return { path, code: 'missing', reason: text };
  if (e.name === 'UnsupportedImageError') return { path, code: 'unsupported', reason: text };
  if (e.name === 'CorruptImageError') {
    let file: { bytes: Uint8Array; format: ImageFormat } | undefined;
    // A catalog image ("#id") or a file gone since: the message alone decides.
    if (isAbsolute(path)) {
      try {
        const bytes = readFileSync(path);
        const format = sniffFormat(bytes);
        if (format && format !== 'other-image') file = { bytes, format };
      } catch {
        // unreadable now: the message decides
      }
    }
    return { path, code: classifyDecodeError(err, file).reason, reason: text };
  }
  return { path, code: 'failed', reason: text };
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

/**
 * The classifier that names an anomaly model's NG images' defect types: the one asked for (refused when it cannot),
 * none for null, else the active model when it can, else the newest finished run that can (null when none can).
 */
function chooseTypeRun(t: ReturnType<typeof trainingService>, asked: number | null | undefined): Inspection['typeRun'] {
  if (asked === null) return null;
  const of = (r: RunSummary) => {
    const d = t.get(r.id);
    return namesTypes(r, d.classInfo) ? { id: r.id, name: r.name, classes: d.classInfo, minProbability: TYPE_MIN_PROBABILITY } : null;
  };
  if (asked !== undefined) {
    const id = Number(asked);
    if (!Number.isInteger(id) || id <= 0) throw new ValidationError('The type classifier must be a run number.');
    const chosen = of(t.get(id));
    if (!chosen)
      throw new ValidationError(
        `Run ${id} cannot name defect types: choose a classifier (not an anomaly run) with a saved model and at least two defect types.`,
      );
    return chosen;
  }
  const active = t.getActive();
  const candidates = [
    ...(active ? [active] : []),
    ...t
      .list()
      .filter((r) => r.status === 'succeeded')
      .sort((a, b) => b.id - a.id),
  ];
  for (const r of candidates) {
    if (r.task === 'anomaly' || !r.hasModel) continue;
    const chosen = of(r);
    if (chosen) return chosen;
  }
  return null;
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
      if (!total) {
        const missing = skipped.filter((k) => k.code === 'missing').map((k) => k.path);
        throw missing.length
          ? new NotFoundError(`Nothing to inspect: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist.`, {
              paths: missing,
            })
          : new ValidationError('There are no images to inspect in what you chose (JPEG, PNG, BMP or TIFF).');
      }
      const t = training();
      const runId = req.runId ?? t.getActive()?.id;
      if (runId === undefined || runId === null)
        throw new ValidationError('No active model: train a model, or set one as active on the Runs screen.');
      const run = t.get(runId);
      if (!run.hasModel) throw new ValidationError(`Run ${runId} has no saved model.`);
      if (req.threshold !== undefined && !(req.threshold >= 0 && req.threshold <= 1))
        throw new ValidationError('The threshold must be between 0 and 1.');
      const typeRun = run.task === 'anomaly' ? chooseTypeRun(t, req.typeRunId) : null;
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
          const toItems = ([res, typeRes]: [PredictResult, PredictResult | null], part: typeof targets): void => {
            modelThreshold = res.threshold;
            res.predictions.forEach((p, k) => {
              const typeProbabilities = typeRes?.predictions[k]?.probabilities;
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
                ...(typeProbabilities ? { typeProbabilities } : {}),
              });
            });
          };
          const predictPart = async (part: typeof targets): Promise<[PredictResult, PredictResult | null]> => {
            const which = {
              imageIds: part.flatMap((x) => ('imageId' in x ? [x.imageId] : [])),
              paths: part.flatMap((x) => ('path' in x ? [x.path] : [])),
            };
            const res = await t.predict(which, runId, ctx.signal);
            // The type classifier looks at the same images (every one: a threshold moved later may make any NG).
            return [res, typeRun ? await t.predict(which, typeRun.id, ctx.signal) : null];
          };
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
                      skip.push(failureOf('path' in one ? one.path : `#${one.imageId}`, e));
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
            ...(run.task === 'anomaly' ? { typeRun } : {}),
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

    async exportInspectionCsv(id, file, opts) {
      if (!file || !String(file).trim()) throw new ValidationError('Choose a file to write the CSV to.');
      const ins = getInspectionOf(s, id);
      const out = resolve(String(file));
      const overwrite = opts?.overwrite === true;
      checkTarget(out, overwrite);
      writeFileAtomic(out, CSV_BOM + inspectionToCsv(ins), { overwrite });
      return { file: out, rows: ins.items.length + unreadableOf(ins).length };
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
