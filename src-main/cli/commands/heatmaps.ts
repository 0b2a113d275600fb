import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import type { ColormapName, GalleryItem, HeatmapMethod, HeatmapSplit } from '../../shared/heatmap-types.ts';
import { HEATMAP_METHODS } from '../../shared/heatmap-types.ts';
import * as runs from '../../services/db/repos/runs.ts';
import { checkTarget, writeFileAtomic } from '../../services/export-file.ts';
import type { CliCommand } from '../command.ts';
import { refuseUnlessForced } from '../force.ts';

const METHODS: readonly string[] = HEATMAP_METHODS;

export const heatmapsCommand: CliCommand = {
  name: 'heatmaps',
  summary: 'Compute per-defect heatmaps (CAM, Grad-CAM, SmoothGrad) of a run, write PNGs and localisation scores',
  usage:
    'kensa heatmaps <project> <run|active> [--method cam|gradcam|saliency|smoothgrad]... [--class T|predicted|label] [--label L]\n' +
    '  [--split train|val|test|all] [--limit N] [--out DIR] [--colormap turbo|jet|grey] [--opacity 0.5] [--n 50] [--sigma 0.1]\n' +
    '  [--layer NAME] [--score] [--force] [--json]\n' +
    "  Default: CAM of each image's own (true) class on the validation split. --out writes <image>-<method>-<class>.png\n" +
    '  overlays and scores.json (files already there are refused unless --force); --score prints pointing game /\n' +
    '  energy in region per defect type and method.',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        method: { type: 'string', multiple: true },
        class: { type: 'string', default: 'label' },
        label: { type: 'string' },
        split: { type: 'string', default: 'val' },
        limit: { type: 'string' },
        out: { type: 'string' },
        colormap: { type: 'string', default: 'turbo' },
        opacity: { type: 'string', default: '0.5' },
        n: { type: 'string' },
        sigma: { type: 'string' },
        layer: { type: 'string' },
        score: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const [dir, runArg] = positionals;
    if (!dir || !runArg) throw new ValidationError(`Usage: ${this.usage}`);
    const methods = (values.method?.length ? values.method.flatMap((m) => m.split(',')) : ['cam']) as HeatmapMethod[];
    for (const m of methods) if (!METHODS.includes(m)) throw new ValidationError(`--method is one of ${METHODS.join(', ')} (got ${m}).`);
    const split = values.split as HeatmapSplit | 'all';
    if (!['train', 'val', 'test', 'all'].includes(split)) throw new ValidationError('--split is train, val, test or all.');
    const colormap = values.colormap as ColormapName;
    if (!['turbo', 'jet', 'grey'].includes(colormap)) throw new ValidationError('--colormap is turbo, jet or grey.');
    const opacity = Number(values.opacity);
    const params = {
      ...(values.n ? { n: Number(values.n) } : {}),
      ...(values.sigma ? { sigma: Number(values.sigma) } : {}),
      ...(values.layer ? { layer: values.layer } : {}),
    };
    const s = io.services();
    const h = s.heatmaps;
    const project = await s.projects.open(dir);
    try {
      const runId = runArg === 'active' ? runs.getActiveRunId(project.db) : Number(runArg);
      if (!runId || !Number.isInteger(runId))
        throw new ValidationError(runArg === 'active' ? 'The project has no active model.' : `Not a run id: ${runArg}`);
      const cls = values.class!;
      const classes = cls === 'label' || cls === 'predicted' || cls === 'all' ? cls : cls.split(',');
      let imageIds: number[] | undefined;
      if (values.limit) {
        const page = h.gallery({
          runId,
          split,
          ...(values.label ? { trueLabel: values.label } : {}),
          limit: Number(values.limit),
          methods,
        });
        imageIds = page.items.map((i) => i.imageId);
      }
      const snap = h.start({
        runId,
        methods,
        classes,
        params,
        ...(imageIds ? { imageIds } : { splits: split === 'all' ? ['train', 'val', 'test'] : [split] }),
        ...(values.label && !imageIds ? { labels: [values.label] } : {}),
      });
      const t0 = Date.now();
      let last = 0;
      const final = await new Promise<{ state: string; error?: { message: string }; result?: unknown }>((resolve) => {
        const off = s.events.on('task', (t) => {
          if (t.id !== snap.id) return;
          const now = Date.now();
          if (t.progress.total && now - last > 1000) {
            last = now;
            io.err(`${t.progress.done}/${t.progress.total} ${t.progress.unit ?? ''} (${((now - t0) / 1000).toFixed(0)} s)`);
          }
          if (t.state === 'succeeded' || t.state === 'failed' || t.state === 'cancelled') {
            off?.();
            resolve(t as never);
          }
        });
        const onSig = () => s.tasks.cancel(snap.id);
        process.once('SIGINT', onSig);
      });
      if (final.state !== 'succeeded') {
        io.err(`Heatmaps ${final.state}: ${final.error?.message ?? ''}`);
        return 1;
      }
      const seconds = (Date.now() - t0) / 1000;
      // Everything computed for the selection, page by page.
      const classKey = cls === 'label' || cls === 'predicted' ? cls : cls.split(',')[0]!;
      const items: GalleryItem[] = [];
      for (let offset = 0; ; offset += 500) {
        const page = h.gallery({
          runId,
          split,
          ...(values.label ? { trueLabel: values.label } : {}),
          methods,
          classKey,
          params,
          offset,
          limit: 500,
        });
        items.push(...page.items.filter((i) => !imageIds || imageIds.includes(i.imageId)));
        if (offset + 500 >= page.total) break;
      }
      const table = h.scores(runId, { split, methods });
      const perImage = items.map((i) => ({
        imageId: i.imageId,
        file: i.fileName,
        split: i.split,
        label: i.trueLabel,
        predicted: i.predictedLabel,
        confidence: i.confidence,
        maps: i.maps.map((m) => ({
          method: m.method,
          class: m.classKey,
          pointing: m.score?.pointing ?? null,
          energy: m.score?.energy ?? null,
          area: m.score?.area ?? null,
        })),
      }));
      if (values.out) {
        const outDir = values.out;
        const overwrite = values.force;
        const pngs = items.flatMap((i) =>
          i.maps.map((m) => ({
            mediaId: m.mediaId,
            file: join(outDir, `${i.fileName.replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_')}-${m.method}-${m.classKey}.png`),
          })),
        );
        // Refuse before writing anything when a file of this export is there already.
        await refuseUnlessForced(() => {
          for (const f of [...pngs.map((x) => x.file), join(outDir, 'scores.json')]) checkTarget(f, overwrite);
        });
        mkdirSync(outDir, { recursive: true });
        let n = 0;
        for (const x of pngs) {
          await h.exportPng(x.mediaId, x.file, { colormap, opacity, overwrite });
          n++;
        }
        writeFileAtomic(
          join(outDir, 'scores.json'),
          JSON.stringify({ runId, split, methods, tolerance: table.tolerance, aggregate: table.rows, images: perImage }, null, 2),
          { overwrite },
        );
        io.err(`Wrote ${n} PNG(s) and scores.json to ${values.out}`);
      }
      if (values.json) io.out(JSON.stringify({ ok: true, runId, seconds, result: final.result, aggregate: table.rows, images: perImage }));
      else {
        io.out(`Run ${runId}: ${items.length} image(s), ${JSON.stringify(final.result)} in ${seconds.toFixed(1)} s`);
        if (values.score || !values.out) {
          io.out(`method      class             n   pointing  energy  (region area)   tolerance ${table.tolerance} px`);
          for (const r of table.rows)
            io.out(
              `${(r.method + (r.paramsKey === 'd' ? '' : ` ${r.paramsKey}`)).padEnd(11)} ${r.classKey.padEnd(16)} ${String(r.count).padStart(4)}   ${(r.pointingAccuracy * 100).toFixed(1).padStart(5)}%  ${(r.meanEnergy * 100).toFixed(1).padStart(5)}%  (${(r.meanArea * 100).toFixed(1)}%)`,
            );
        }
      }
      return 0;
    } finally {
      await s.dispose();
    }
  },
};
