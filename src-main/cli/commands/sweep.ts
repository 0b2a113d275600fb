import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { parseSweepList } from '../../shared/sweep.ts';
import type { TrainConfigInput } from '../../shared/training-types.ts';
import { presetConfig, TRAIN_PRESETS, type TrainPresetId } from '../../shared/training-presets.ts';
import type { CliCommand } from '../command.ts';
import { describePreset, parseTrainArgs, trainConfigFromFlags } from './train.ts';

const pct = (v: number | null) => (v === null ? '    -   ' : `${(v * 100).toFixed(2).padStart(6)} %`);

export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: "The study's sweep: one training run per input size and number of fine-tuned blocks, queued one after another",
  usage:
    'kensa sweep <project> --sizes 224,320,448 --blocks 0,2,6 [--preset quick|study|best] [--activate-best] [--json]\n' +
    '  plus any `kensa train` flag (applied to every run; --size and --finetune-blocks come from the lists)',
  async run(argv, io) {
    const own = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: false,
      options: { sizes: { type: 'string' }, blocks: { type: 'string' }, 'activate-best': { type: 'boolean', default: false } },
    });
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] ?? '';
      if (a === '--sizes' || a === '--blocks') i++;
      else if (!a.startsWith('--sizes=') && !a.startsWith('--blocks=') && a !== '--activate-best') rest.push(a);
    }
    const { values, positionals } = parseTrainArgs(rest);
    const [dir] = positionals;
    const sizesText = own.values.sizes;
    const blocksText = own.values.blocks;
    if (!dir || typeof sizesText !== 'string' || typeof blocksText !== 'string') throw new ValidationError(`Usage: ${this.usage}`);
    if (values.size !== undefined || values['finetune-blocks'] !== undefined)
      throw new ValidationError('A sweep takes its sizes and blocks from --sizes and --blocks; leave out --size and --finetune-blocks.');
    const spec = { sizes: parseSweepList(sizesText, '--sizes'), blocks: parseSweepList(blocksText, '--blocks') };
    const s = io.services();
    const t = s.training;
    let base: TrainConfigInput = {};
    if (values.preset !== undefined) {
      const preset = values.preset as TrainPresetId;
      if (!TRAIN_PRESETS.includes(preset))
        throw new ValidationError(`Unknown preset "${values.preset}". Choose ${TRAIN_PRESETS.join(', ')}.`);
      const { report } = await s.engine.ensureStarted();
      base = presetConfig(preset, report.training);
      io.err(`Preset ${preset} on ${report.training}: ${describePreset(base)}`);
    }
    base = trainConfigFromFlags(values, base);

    await s.projects.open(dir);
    const started = s.sweep.start(base, spec);
    io.err(`Sweep ${started.sweepId}: ${started.runs.length} runs queued (runs ${started.runs.map((r) => r.runId).join(', ')}).`);
    let cancelled = false;
    const onSig = () => {
      cancelled = true;
      io.err('Cancelling the sweep (finished runs are kept)...');
      for (const r of started.runs) s.tasks.cancel(r.id);
    };
    process.once('SIGINT', onSig);
    try {
      for (const r of started.runs) {
        const final = await s.tasks.wait(r.id);
        const run = t.get(r.runId);
        io.err(
          `  run ${r.runId} (${run.inputSize} px, N=${run.config.fineTuneBlocks}): ${final.state}, val accuracy ${pct(run.valAccuracy)}`,
        );
      }
    } finally {
      process.off('SIGINT', onSig);
    }
    const view = s.sweep.runs(started.sweepId);
    if (own.values['activate-best'] && view.bestRunId !== null) t.setActive(view.bestRunId);
    if (values.json) io.out(JSON.stringify(view));
    else {
      io.out(`Sweep ${view.sweepId}`);
      io.out('   run   size   N   val accuracy   status');
      for (const p of view.points)
        io.out(
          `${String(p.runId).padStart(6)} ${String(p.inputSize).padStart(6)} ${String(p.fineTuneBlocks).padStart(3)}   ${pct(p.valAccuracy)}     ${p.status}${p.runId === view.bestRunId ? '   <- best' : ''}`,
        );
      if (view.bestRunId !== null)
        io.out(
          own.values['activate-best']
            ? `Run ${view.bestRunId} is now the active model.`
            : `Make the best run the active model with --activate-best, or in the app (Runs).`,
        );
    }
    if (cancelled) return 130;
    return view.points.every((p) => p.status === 'succeeded') ? 0 : 1;
  },
};
