import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { exportLabels } from '../../services/library/stats.ts';
import type { CliCommand } from '../command.ts';
import { refuseUnlessForced } from '../force.ts';
import { openProjectForCli } from './import.ts';

export const labelsCommand: CliCommand = {
  name: 'labels',
  summary: 'Export labels of a project as CSV or as class folders',
  usage:
    'kensa labels export <project> [--format csv|folders] [--out P] [--force] [--json]\n  Default --out: <project>/labels.csv (csv) or <project>/export (folders).\n' +
    '  An existing CSV, or a folder that is not empty, is refused unless --force (then files of the same name are replaced).',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'csv' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const [sub, dir] = positionals;
    if (sub !== 'export' || !dir) throw new ValidationError(`Usage: ${this.usage}`);
    if (values.format !== 'csv' && values.format !== 'folders') throw new ValidationError('--format is csv or folders.');
    const s = io.services();
    const project = await openProjectForCli(s, dir, io, false);
    try {
      const out = values.out ?? join(project.dir, values.format === 'csv' ? 'labels.csv' : 'export');
      const format = values.format;
      const r = await refuseUnlessForced(() => exportLabels(project.db, project.dir, { format, out, overwrite: values.force }));
      if (values.json) io.out(JSON.stringify({ ok: true, ...r }));
      else io.out(`Wrote ${r.written} labelled images to ${r.out} (${r.skippedUnlabelled} unlabelled left out).`);
      return 0;
    } finally {
      await s.projects.close();
    }
  },
};
