import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { trainingService } from '../../services/ml/training-service.ts';
import type { CliCommand } from '../command.ts';

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: "Classify image files (or catalog images given as #id) with a run's model",
  usage: 'kensa predict <project> <run|active> <images...> [--json]   (an image is a file path, or #123 for catalog image 123)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    });
    const [dir, run, ...images] = positionals;
    if (!dir || !run || images.length === 0) throw new ValidationError(`Usage: ${this.usage}`);
    const s = io.services();
    await s.projects.open(dir);
    const imageIds = images.filter((i) => /^#\d+$/.test(i)).map((i) => Number(i.slice(1)));
    const paths = images.filter((i) => !/^#\d+$/.test(i));
    const res = await trainingService(s).predict({ imageIds, paths }, run === 'active' ? undefined : Number(run));
    if (values.json) io.out(JSON.stringify({ ok: true, ...res }));
    else {
      for (const p of res.predictions) {
        const probs = p.probabilities.map((v, i) => `${res.classes[i]} ${(v * 100).toFixed(1)}%`).join(', ');
        io.out(`${p.path ?? `#${p.imageId}`}: ${p.predictedKey} (${probs})`);
      }
    }
    return 0;
  },
};
