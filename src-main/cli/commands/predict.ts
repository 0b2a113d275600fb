import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { describeAim } from '../../shared/operating-point.ts';
import type { CliCommand } from '../command.ts';

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: "Classify image files (or catalog images given as #id) with a run's model at its stored threshold",
  usage:
    'kensa predict <project> <run|active> <images...> [--tta|--no-tta] [--json]   (an image is a file path, or #123 for catalog image 123;\n' +
    '  --tta: mean of the original, rotated 180° and rotated+mirrored predictions; default: as the model was trained)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, tta: { type: 'boolean' }, 'no-tta': { type: 'boolean' } },
    });
    const [dir, run, ...images] = positionals;
    if (!dir || !run || images.length === 0) throw new ValidationError(`Usage: ${this.usage}`);
    const s = io.services();
    await s.projects.open(dir);
    const imageIds = images.filter((i) => /^#\d+$/.test(i)).map((i) => Number(i.slice(1)));
    const paths = images.filter((i) => !/^#\d+$/.test(i));
    const t = s.training;
    const tta = values.tta ? { tta: true } : values['no-tta'] ? { tta: false } : {};
    const res = await t.predict({ imageIds, paths }, run === 'active' ? undefined : Number(run), undefined, tta);
    if (values.json) io.out(JSON.stringify({ ok: true, ...res }));
    else {
      const op = t.get(res.runId).operatingPoint;
      const ok = res.classes.findIndex((_, i) => t.get(res.runId).classInfo[i]?.isOk);
      if (res.threshold !== null)
        io.out(`Model #${res.runId}: defect when P(defect) >= ${res.threshold.toFixed(3)}${op ? ` (${describeAim(op.aim)})` : ''}`);
      for (const p of res.predictions) {
        const probs = p.probabilities.map((v, i) => `${res.classes[i]} ${(v * 100).toFixed(1)}%`).join(', ');
        const score = ok >= 0 ? `, P(defect) ${(1 - p.probabilities[ok]!).toFixed(3)}` : '';
        const tile = p.tile !== undefined ? `, worst tile ${p.tile}` : '';
        io.out(`${p.path ?? `#${p.imageId}`}: ${p.predictedKey} (${probs}${score}${tile})`);
      }
    }
    return 0;
  },
};
