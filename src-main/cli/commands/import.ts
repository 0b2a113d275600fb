import { parseArgs } from 'node:util';
import type { ImportRequest } from '../../shared/library-types.ts';
import { ValidationError } from '../../shared/errors.ts';
import { runImport } from '../../services/library/import.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_FILE, type Project } from '../../services/projects/project.ts';
import type { Services } from '../../services/services.ts';
import type { CliCommand, CliIo } from '../command.ts';

/** Opens (or, when allowed, creates) a project through the services' manager, so media/events work as in the app. */
export async function openProjectForCli(s: Services, dir: string, io: CliIo, create: boolean): Promise<Project> {
  if (create && !existsSync(join(dir, CATALOG_FILE))) {
    io.err(`Creating a new project in ${dir}`);
    return s.projects.create(dir);
  }
  return s.projects.open(dir);
}

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import images (JPEG, PNG, BMP, TIFF) with labels and regions into a project (created if missing)',
  usage:
    'kensa import <project> <paths...> [--labels-from-folders] [--labels-csv F] [--regions-voc DIR] [--regions-masks DIR] ' +
    '[--regions-labelme DIR|FILE] [--regions-coco FILE] ' +
    '[--pages first|all] [--core-type stator|rotor|unknown] [--json]\n' +
    '  <project> is created when it does not exist. Folders are read recursively; with --labels-from-folders the first\n' +
    '  folder level under each given folder is the class (matched to defect types by name; unknown names create types).\n' +
    '  Regions are matched to the images by file name (VOC/masks: <stem>.xml/.png; labelme: imagePath; COCO: file_name);\n' +
    '  their labels map onto defect types like folder names. Bad annotation files are listed, never stop the import.\n' +
    '  Ctrl-C stops; running the same command again continues without duplicates.',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'labels-from-folders': { type: 'boolean', default: false },
        'labels-csv': { type: 'string' },
        'regions-voc': { type: 'string' },
        'regions-masks': { type: 'string' },
        'regions-labelme': { type: 'string' },
        'regions-coco': { type: 'string' },
        pages: { type: 'string', default: 'first' },
        'core-type': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const [dir, ...paths] = positionals;
    if (!dir || paths.length === 0) throw new ValidationError(`Usage: ${this.usage}`);
    if (values.pages !== 'first' && values.pages !== 'all') throw new ValidationError('--pages is first or all.');
    if (values['labels-from-folders'] && values['labels-csv'])
      throw new ValidationError('Use either --labels-from-folders or --labels-csv.');
    const ct = values['core-type'];
    if (ct !== undefined && ct !== 'stator' && ct !== 'rotor' && ct !== 'unknown')
      throw new ValidationError('--core-type is stator, rotor or unknown.');
    const req: ImportRequest = {
      paths,
      labels: values['labels-from-folders']
        ? { from: 'folders' }
        : values['labels-csv']
          ? { from: 'csv', csvPath: values['labels-csv'] }
          : { from: 'none' },
      tiffPages: values.pages,
    };
    if (ct) req.coreType = ct;
    if (values['regions-voc'] || values['regions-masks'] || values['regions-labelme'] || values['regions-coco']) {
      req.regions = {};
      if (values['regions-voc']) req.regions.vocDir = values['regions-voc'];
      if (values['regions-masks']) req.regions.masksDir = values['regions-masks'];
      if (values['regions-labelme']) req.regions.labelme = values['regions-labelme'];
      if (values['regions-coco']) req.regions.coco = values['regions-coco'];
      for (const p of [req.regions.labelme, req.regions.coco]) if (p && !existsSync(p)) throw new ValidationError(`${p} does not exist.`);
    }
    for (const p of paths) if (!existsSync(p)) throw new ValidationError(`${p} does not exist.`);
    const s = io.services();
    const project = await openProjectForCli(s, dir, io, true);
    const ac = new AbortController();
    const onSig = () => {
      io.err('Stopping after the files in progress...');
      ac.abort();
    };
    process.once('SIGINT', onSig);
    let last = 0;
    try {
      const t0 = Date.now();
      const report = await runImport(project, req, {
        signal: ac.signal,
        progress: (done, total) => {
          const now = Date.now();
          if (now - last < 1000 && done !== total) return;
          last = now;
          const rate = done / Math.max(0.001, (now - t0) / 1000);
          io.err(`${done}/${total} files, ${rate.toFixed(1)}/s, ETA ${Math.round((total - done) / Math.max(rate, 0.001))} s`);
        },
      });
      if (values.json) io.out(JSON.stringify({ ok: true, report }));
      else {
        io.out(
          `Batch ${report.batchId}${report.resumed ? ' (resumed)' : ''}: ${report.filesSeen} files, ${report.imported} imported, ${report.alreadyImported} already in, ` +
            `${report.duplicates.length} duplicate(s), ${report.skipped.length} skipped, ${report.regionsImported} regions, ${report.imagesPerSecond} images/s`,
        );
        for (const [k, n] of Object.entries(report.labelled)) io.out(`  ${k}: ${n}`);
        if (report.createdDefectTypes.length) io.out(`New defect types: ${report.createdDefectTypes.join(', ')}`);
        for (const d of report.duplicates) io.out(`  duplicate: ${d.path} = ${d.existingPath}`);
        for (const k of report.skipped) io.out(`  skipped (${k.reason}): ${k.path}: ${k.message}`);
        for (const p of report.regionProblems.slice(0, 20)) io.out(`  regions (${p.code}): ${p.file}: ${p.message}`);
        if (report.regionProblems.length > 20) io.out(`  ... ${report.regionProblems.length - 20} more region problems`);
        for (const w of report.warnings.slice(0, 20)) io.out(`  warning: ${w}`);
        if (report.warnings.length > 20) io.out(`  ... ${report.warnings.length - 20} more warnings`);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSig);
      await s.projects.close();
    }
  },
};
