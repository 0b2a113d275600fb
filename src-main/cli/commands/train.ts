import { parseArgs } from 'node:util';
import { TilingUnsupportedError, ValidationError } from '../../shared/errors.ts';
import type { LibraryStats } from '../../shared/library-types.ts';
import type { BackboneId, TrainConfigInput, TrainingTaskKind } from '../../shared/training-types.ts';
import { defectImagesWithRegions, presetConfig, presetGuidance, TRAIN_PRESETS, type TrainPresetId } from '../../shared/training-presets.ts';
import { libraryStats } from '../../services/library/stats.ts';
import { chooseAnomalyResize, chooseResize, describeResizeChoice } from '../../shared/resize-choice.ts';
import type { CliCommand } from '../command.ts';
import { estimateLine } from '../estimate-line.ts';
import { resolveConfig } from '../../services/training/train/config.ts';

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ValidationError(`${what} must be a number (got ${v}).`);
  return n;
}

const TRAIN_OPTIONS = {
  task: { type: 'string' },
  backbone: { type: 'string' },
  weights: { type: 'string' },
  size: { type: 'string' },
  epochs: { type: 'string' },
  'finetune-blocks': { type: 'string' },
  'finetune-epochs': { type: 'string' },
  lr: { type: 'string' },
  'finetune-lr': { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  patience: { type: 'string' },
  augment: { type: 'string' },
  balance: { type: 'string' },
  split: { type: 'string' },
  val: { type: 'string' },
  test: { type: 'string' },
  continue: { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  name: { type: 'string' },
  json: { type: 'boolean', default: false },
  preset: { type: 'string' },
  schedule: { type: 'string' },
  'finetune-patience': { type: 'string' },
  'best-epoch': { type: 'string' },
  'guide-regions': { type: 'boolean' },
  'no-guide-regions': { type: 'boolean' },
  'guide-weight': { type: 'string' },
  tta: { type: 'boolean' },
  'no-tta': { type: 'boolean' },
  resize: { type: 'string' },
  'max-tiles': { type: 'string' },
  'no-pad-mask': { type: 'boolean', default: false },
  coreset: { type: 'string' },
  'project-dim': { type: 'string' },
  'no-normalise': { type: 'boolean', default: false },
  flips: { type: 'boolean', default: false },
} as const;

export function parseTrainArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: TRAIN_OPTIONS });
}

export type TrainFlags = ReturnType<typeof parseTrainArgs>['values'];

/** The configuration a command line asks for: `base` (a preset, or empty) with every flag given applied over it. */
export function trainConfigFromFlags(values: TrainFlags, base: TrainConfigInput = {}): TrainConfigInput {
  const cfg: TrainConfigInput = { ...base };
  if (values.task) cfg.task = values.task as TrainingTaskKind;
  if (values.backbone) cfg.backbone = values.backbone as BackboneId;
  if (values.weights) cfg.weightsDir = values.weights;
  if (values.name) cfg.name = values.name;
  const set = <K extends keyof TrainConfigInput>(k: K, v: string | undefined, what: string) => {
    const n = num(v, what);
    if (n !== undefined) (cfg as Record<string, unknown>)[k] = n;
  };
  set('inputSize', values.size, '--size');
  set('epochs', values.epochs, '--epochs');
  set('fineTuneBlocks', values['finetune-blocks'], '--finetune-blocks');
  set('fineTuneEpochs', values['finetune-epochs'], '--finetune-epochs');
  set('learningRate', values.lr, '--lr');
  set('fineTuneLearningRate', values['finetune-lr'], '--finetune-lr');
  set('batchSize', values.batch, '--batch');
  set('seed', values.seed, '--seed');
  set('patience', values.patience, '--patience');
  set('continueFromRunId', values.continue, '--continue');
  set('fineTunePatience', values['finetune-patience'], '--finetune-patience');
  if (values['finetune-blocks'] && !values['finetune-epochs'] && !cfg.fineTuneEpochs) cfg.fineTuneEpochs = 10;
  if (values.schedule !== undefined) {
    const sched = ({ cosine: 'warmupCosine', constant: 'constant' } as const)[values.schedule as 'cosine'];
    if (!sched) throw new ValidationError(`--schedule must be cosine or constant (got ${values.schedule}).`);
    cfg.lrSchedule = sched;
  }
  if (values['guide-regions']) cfg.guideRegions = true;
  set('guideWeight', values['guide-weight'], '--guide-weight');
  if (values['guide-weight'] !== undefined && !values['guide-regions']) throw new ValidationError('--guide-weight needs --guide-regions.');
  if (values['best-epoch'] !== undefined) {
    const rule = ({ loss: 'valLoss', pointing: 'accuracyNearBestPointing' } as const)[values['best-epoch'] as 'loss'];
    if (!rule) throw new ValidationError(`--best-epoch must be loss or pointing (got ${values['best-epoch']}).`);
    cfg.bestEpoch = rule;
  }
  if (values.tta) cfg.tta = true;
  if (values['no-tta']) cfg.tta = false;
  if (values.resize !== undefined) {
    if (values.resize !== 'squash' && values.resize !== 'letterbox' && values.resize !== 'tile')
      throw new ValidationError(`--resize must be squash or letterbox, or tile for large or elongated photos (got ${values.resize}).`);
    cfg.resize = values.resize;
  }
  set('maxTiles', values['max-tiles'], '--max-tiles');
  if (values['no-pad-mask']) cfg.padMask = false;
  if (values.augment) cfg.augmentation = { mode: values.augment as 'fixed' | 'random' | 'none' };
  if (values.balance)
    cfg.imbalance =
      ({ weights: 'classWeights', sampling: 'balancedSampling', none: 'none' } as const)[values.balance as 'weights'] ??
      (values.balance as 'none');
  if (values['no-cache']) cfg.useEmbeddingCache = false;
  if (values.split === 'random' || values.val || values.test) {
    cfg.split = {
      mode: 'random',
      valFraction: num(values.val, '--val') ?? 0.24,
      testFraction: num(values.test, '--test') ?? 0,
      seed: cfg.seed ?? 1,
    };
  }
  if (cfg.continueFromRunId !== undefined && cfg.continueFromRunId !== null && values.epochs === undefined) cfg.epochs = 0;
  if (cfg.task === 'anomaly') {
    const coresetFraction = num(values.coreset, '--coreset');
    const projectDim = num(values['project-dim'], '--project-dim');
    cfg.anomaly = {
      ...(coresetFraction !== undefined ? { coresetFraction } : {}),
      ...(projectDim !== undefined ? { projectDim } : {}),
      ...(values['no-normalise'] ? { normaliseIntensity: false } : {}),
      // Test-time flips: each image also scored mirrored (stored with the model; Inspect and heatmaps use them).
      ...(values.flips ? { flips: 'h' as const } : {}),
    };
  } else if (values.flips) throw new ValidationError('--flips is for anomaly models (--task anomaly).');
  return cfg;
}

/**
 * Without --resize the photos' shapes decide, as in the wizard (shared/resize-choice.ts): sets `cfg.resize`
 * and returns the line saying why, or null where the rule does not apply (resize given; a
 * continued run keeps its parent's mode, which the training service reads from the parent's model).
 */
export function applyDefaultResize(cfg: TrainConfigInput, perLabel: LibraryStats['perLabel']): string | null {
  if (cfg.resize !== undefined || (cfg.continueFromRunId ?? null) !== null) return null;
  const labels = perLabel.filter((l) => !cfg.labels || cfg.labels.includes(l.key));
  // Anomaly models: tiles for elongated photos, squash otherwise (chooseAnomalyResize says what was measured).
  const choice = cfg.task === 'anomaly' ? chooseAnomalyResize(labels) : chooseResize(labels);
  cfg.resize = choice.mode;
  return `Resize ${describeResizeChoice(choice, (k) => labels.find((l) => l.key === k)?.nameEn || k)} (--resize to choose).`;
}

/** One line on what a preset sets, for the terminal. */
export function describePreset(c: TrainConfigInput): string {
  const ft = c.fineTuneEpochs ? `, then the last ${c.fineTuneBlocks} blocks fine-tuned for up to ${c.fineTuneEpochs} epochs` : '';
  return `${c.backbone} at ${c.inputSize} px, head trained for up to ${c.epochs} epochs${ft}${c.tta ? ', test-time augmentation' : ''}`;
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train a defect classifier (transfer learning, then optional fine-tuning) on a project',
  usage:
    'kensa train <project> [--preset quick|study|best] [--task binary|multiclass|anomaly] [--backbone mobilenet_v1_0.75] [--weights DIR]\n' +
    '  [--size 224] [--epochs N] [--schedule cosine|constant] [--finetune-patience N] [--tta|--no-tta]\n' +
    '  [--finetune-blocks N] [--finetune-epochs N] [--lr X] [--finetune-lr X] [--batch N] [--seed S] [--patience N]\n' +
    '  [--augment fixed|random|none] [--balance weights|sampling|none] [--split catalog|random] [--val F] [--test F]\n' +
    '  [--continue RUN] [--no-cache] [--name NAME] [--json]\n' +
    '  [--best-epoch loss|pointing]  pointing: best accuracy among epochs whose CAM pointing is within 2 points of the best\n' +
    '  [--guide-regions [--guide-weight W] | --no-guide-regions]  penalise CAM mass outside the drawn regions of defect\n' +
    '      images (default W 1); left out: on (W 1) with --preset study|best when training defect images have regions\n' +
    '  [--resize squash|letterbox] [--no-pad-mask]  letterbox: photos keep their shape (padded in grey, the padding left out\n' +
    '      of pooling and maps unless --no-pad-mask); left out: letterbox when every photo is far from square, squash\n' +
    "      otherwise (also when the classes' shapes differ: letterbox's padding would show the shape even more)\n" +
    '  [--resize tile [--max-tiles N]]  large or elongated photos: square tiles across the short side (at most N, default 16),\n' +
    '      the photo judged by its worst tile, the maps stitched back; left out: tile when the photos are 2.5:1 or longer\n' +
    '  anomaly (learn from OK images only): [--coreset F] [--project-dim N] [--no-normalise]\n' +
    '      [--flips]  also score each image mirrored: +0.0045 AUROC on elpv for twice the scoring time',
  async run(argv, io) {
    const { values, positionals } = parseTrainArgs(argv);
    const [dir] = positionals;
    if (!dir) throw new ValidationError(`Usage: ${this.usage}`);
    const s = io.services();
    const t = s.training;
    // A preset is the starting point (on this machine's training backend); every flag given overrides it.
    let cfg: TrainConfigInput = {};
    if (values.preset !== undefined) {
      const preset = values.preset as TrainPresetId;
      if (!TRAIN_PRESETS.includes(preset))
        throw new ValidationError(`Unknown preset "${values.preset}". Choose ${TRAIN_PRESETS.join(', ')}.`);
      const { report } = await s.engine.ensureStarted();
      cfg = presetConfig(preset, report.training);
      // Described with the flags applied, so that `--finetune-epochs 2` reads as 2, not as the preset's 12.
      const flagged = trainConfigFromFlags(values, cfg);
      io.err(`Preset ${preset} on ${report.training}: ${describePreset(flagged)}`);
    }
    cfg = trainConfigFromFlags(values, cfg);

    await s.projects.open(dir);
    const perLabel = libraryStats(s.projects.require().db).perLabel;
    const resizeLine = applyDefaultResize(cfg, perLabel);
    if (resizeLine) io.err(resizeLine);
    if (values['no-guide-regions']) {
      if (values['guide-regions']) throw new ValidationError('Choose one of --guide-regions and --no-guide-regions.');
      cfg.guideRegions = false;
      delete cfg.guideWeight;
    } else if (
      values.preset !== undefined &&
      !values['guide-regions'] &&
      cfg.task !== 'anomaly' &&
      // Guidance is refused with tiles and left out with random augmentation: the preset does not ask for it there.
      cfg.resize !== 'tile' &&
      cfg.augmentation?.mode !== 'random'
    ) {
      const withRegions = defectImagesWithRegions(perLabel, []);
      Object.assign(cfg, presetGuidance(values.preset as TrainPresetId, withRegions));
      if (cfg.guideRegions)
        io.err(
          `Guided by the drawn regions (weight ${cfg.guideWeight ?? 1}): ${withRegions} training defect images have regions (--no-guide-regions to train without).`,
        );
    }
    // The estimate before the run starts, as the wizard shows it beside Start (timed on this machine's backends).
    // A configuration the service refuses fails here as it would in start(); other failures only cost the line.
    try {
      io.err(estimateLine(await t.estimate(cfg), resolveConfig(cfg).fineTuneEpochs));
    } catch (err) {
      if (err instanceof ValidationError || err instanceof TilingUnsupportedError) throw err;
      io.err(`No estimate (${(err as Error).message}); starting the run anyway.`);
    }
    const started = t.start(cfg);
    const runId = started.runId;
    io.err(`Run ${runId} queued (task ${started.id}).`);
    const offEpoch = s.events.on('trainingEpoch', (e) => {
      if (e.runId !== runId) return;
      const m = e.metrics;
      const f = (v: number | null) => (v === null ? '   -  ' : v.toFixed(4));
      const line = `epoch ${String(e.globalEpoch).padStart(3)}/${e.totalEpochs} ${e.phase.padEnd(8)} loss ${f(m.loss)} acc ${f(m.accuracy)} val_loss ${f(m.valLoss)} val_acc ${f(m.valAccuracy)}`;
      if (values.json) io.err(line);
      else io.out(line);
    });
    let lastMsg = '';
    const offTask = s.events.on('task', (snap) => {
      if (snap.id !== started.id || !snap.message || snap.message === lastMsg) return;
      lastMsg = snap.message;
      io.err(snap.message);
    });
    const onSig = () => {
      io.err('Cancelling (the best model so far is kept)...');
      s.tasks.cancel(started.id);
    };
    process.once('SIGINT', onSig);
    try {
      const final = await s.tasks.wait(started.id);
      const run = t.get(runId);
      const summary = {
        ok: final.state === 'succeeded',
        runId,
        status: run.status,
        backend: run.backend,
        valAccuracy: run.valAccuracy,
        valLoss: run.valLoss,
        testAccuracy: run.testAccuracy,
        epochs: run.epochs.length,
        phases: run.phases,
        durations: run.durations,
        modelDir: run.modelDir,
        evaluations: run.evaluations.map((e) => ({
          split: e.split,
          accuracy: e.accuracy,
          loss: e.loss,
          macroF1: e.macroF1,
          auc: e.binary?.auc ?? null,
          perClass: e.perClass,
        })),
        error: run.error,
      };
      if (values.json) io.out(JSON.stringify(summary));
      else {
        io.out(`Run ${runId}: ${run.status}${run.error ? ` - ${run.error.name}: ${run.error.message}` : ''}`);
        for (const e of run.evaluations)
          io.out(
            `  ${e.split}: accuracy ${(e.accuracy * 100).toFixed(2)} %, loss ${e.loss.toFixed(4)}, macro F1 ${e.macroF1.toFixed(4)}${e.binary ? `, AUC ${e.binary.auc.toFixed(4)}` : ''}`,
          );
        if (run.modelDir) io.out(`  model: ${run.modelDir}`);
      }
      return final.state === 'succeeded' ? 0 : final.state === 'cancelled' ? 130 : 1;
    } finally {
      process.off('SIGINT', onSig);
      offEpoch();
      offTask();
    }
  },
};
