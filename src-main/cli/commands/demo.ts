import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { DEMO_DEFAULT_COUNT, populateDemoProject } from '../../services/library/demo/populate.ts';
import type { CliCommand } from '../command.ts';
import { openProjectForCli } from './import.ts';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Generate synthetic motor-core photos (OK + scratch, dent, chip, sheet shift, with masks) into a project',
  usage: `kensa demo <project> [--count N] [--seed S] [--json]\n  <project> is created when missing. N = total images (a third OK); default ${DEMO_DEFAULT_COUNT}, seed 1.`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        count: { type: 'string', default: String(DEMO_DEFAULT_COUNT) },
        seed: { type: 'string', default: '1' },
        json: { type: 'boolean', default: false },
      },
    });
    const [dir] = positionals;
    const count = Number(values.count);
    const seed = Number(values.seed);
    if (!dir) throw new ValidationError(`Usage: ${this.usage}`);
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new ValidationError('--count is a whole number from 1 to 100000.');
    if (!Number.isInteger(seed)) throw new ValidationError('--seed is a whole number.');
    const s = io.services();
    const project = await openProjectForCli(s, dir, io, true);
    try {
      let last = 0;
      const report = await populateDemoProject(s, project, {
        count,
        seed,
        onProgress: (d, t, phase) => {
          if (Date.now() - last < 1000 && d !== t) return;
          last = Date.now();
          io.err(`${phase}: ${d}/${t}`);
        },
      });
      if (values.json) io.out(JSON.stringify({ ok: true, report }));
      else
        io.out(
          `Demo images: ${report.imported} imported (${Object.entries(report.labelled)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}), ${report.regionsImported} regions, ${report.duplicates.length} already there.`,
        );
      return 0;
    } finally {
      await s.projects.close();
    }
  },
};
