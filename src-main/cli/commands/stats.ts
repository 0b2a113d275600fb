import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { libraryStats } from '../../services/library/stats.ts';
import type { CliCommand } from '../command.ts';
import { openProjectForCli } from './import.ts';

export const statsCommand: CliCommand = {
  name: 'stats',
  summary: 'Counts per label and split, review states, regions and duplicates of a project',
  usage: 'kensa stats <project> [--json]',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    });
    const [dir] = positionals;
    if (!dir) throw new ValidationError(`Usage: ${this.usage}`);
    const s = io.services();
    const project = await openProjectForCli(s, dir, io, false);
    try {
      const st = libraryStats(project.db);
      if (values.json) {
        io.out(JSON.stringify({ ok: true, ...st }));
        return 0;
      }
      io.out(
        `${st.total} images, ${st.unlabelled} unlabelled, ${st.regions} regions, ${st.batches} import batches, ${st.duplicatesFound} duplicate files found`,
      );
      const names = st.perLabel.map((l) => `${l.nameEn} / ${l.nameJa}`);
      const w = Math.max(12, ...names.map((n) => n.length)) + 2;
      const row = (name: string, vals: number[]) => io.out(`${name.padEnd(w)}${vals.map((v) => String(v).padStart(7)).join('')}`);
      io.out(`${'label'.padEnd(w)}${['total', 'train', 'val', 'test'].map((h) => h.padStart(7)).join('')}`);
      st.perLabel.forEach((l, i) => row(names[i]!, [l.total, l.train, l.val, l.test]));
      row('all', [st.total, st.perSplit.train, st.perSplit.val, st.perSplit.test]);
      io.out(
        `review: ${Object.entries(st.perReviewState)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; core: ${Object.entries(st.perCoreType)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      return 0;
    } finally {
      await s.projects.close();
    }
  },
};
