import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { UNKNOWN_TYPE, UNREADABLE_VERDICT, unreadableOf } from '../../services/inspect/csv.ts';
import { checkTarget } from '../../services/export-file.ts';
import type { CliCommand } from '../command.ts';
import { refuseUnlessForced } from '../force.ts';

const USAGE =
  'kensa inspect <project> <paths...> [--run R] [--threshold T] [--tta|--no-tta] [--type-run R|none] [--csv FILE [--force]] [--json]\n' +
  '  An existing --csv file is refused (before inspecting) unless --force. Unreadable files are rows of the CSV.\n' +
  '  --tta: each photo is the mean of the x3 views (original, rotated 180°, rotated+mirrored), about 3x slower;\n' +
  "  default: as the model was trained (the Best preset turns it on). The CSV's tta column says which was used.\n" +
  '  With an anomaly model, NG photos get a defect type from a classifier (--type-run, default the active or newest one\n' +
  '  with two or more defect types; none: no types), or UNKNOWN when its most likely defect is below 50 %.';

/** `kensa inspect <project> <paths...>`: classify new photos with the project's active model (or --run). */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: "Classify photos (files or folders) with a project's active model; OK/NG per image, CSV export",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        run: { type: 'string' },
        threshold: { type: 'string' },
        tta: { type: 'boolean' },
        'no-tta': { type: 'boolean' },
        'type-run': { type: 'string' },
        csv: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const [projectDir, ...paths] = positionals;
    if (!projectDir || !paths.length) throw new ValidationError(`Give a project folder and at least one photo or folder.\nUsage: ${USAGE}`);
    const runId = values.run !== undefined ? Number(values.run) : undefined;
    if (runId !== undefined && (!Number.isInteger(runId) || runId <= 0))
      throw new ValidationError(`--run must be a run number, not ${values.run}.`);
    const threshold = values.threshold !== undefined ? Number(values.threshold) : undefined;
    if (values.tta && values['no-tta']) throw new ValidationError('Give --tta or --no-tta, not both.');
    const tta = values.tta ? true : values['no-tta'] ? false : undefined;
    const typeArg = values['type-run'];
    const typeRunId = typeArg === undefined ? undefined : typeArg === 'none' ? null : Number(typeArg);
    if (typeRunId !== undefined && typeRunId !== null && (!Number.isInteger(typeRunId) || typeRunId <= 0))
      throw new ValidationError(`--type-run must be a run number or none, not ${typeArg}.`);
    // Refuse an existing CSV before spending time on inference.
    if (values.csv) await refuseUnlessForced(() => checkTarget(resolve(values.csv!), values.force));
    const s = io.services();
    await s.projects.open(projectDir);
    const inspect = s.inspect;
    const snap = inspect.start({
      paths,
      ...(runId !== undefined ? { runId } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      ...(typeRunId !== undefined ? { typeRunId } : {}),
      ...(tta !== undefined ? { tta } : {}),
    });
    const done = await s.tasks.wait(snap.id);
    if (done.state === 'failed')
      throw Object.assign(new Error(done.error?.message ?? 'Inspection failed'), { name: done.error?.name ?? 'Error' });
    if (done.state === 'cancelled') {
      io.err('Inspection cancelled.');
      return 1;
    }
    const { inspectionId } = done.result as { inspectionId: string };
    const ins = inspect.get(inspectionId);
    if (values.csv) {
      const csv = values.csv;
      const r = await refuseUnlessForced(() => inspect.exportCsv(inspectionId, csv, { overwrite: values.force }));
      if (!values.json) io.out(`CSV: ${r.file} (${r.rows} rows)`);
    }
    const ng = ins.items.filter((i) => i.verdict === 'ng').length;
    if (values.json) {
      io.out(JSON.stringify({ ok: true, inspection: ins }));
    } else {
      io.out(
        `Model: #${ins.runId} ${ins.runName}${ins.threshold !== null ? `, threshold ${ins.threshold.toFixed(3)} on P(defect)` : ''}${
          ins.tta ? ', test-time augmentation (x3 views)' : ''
        }`,
      );
      const typeRun = ins.typeRun;
      if (typeRun)
        io.out(
          `Defect types of NG photos: #${typeRun.id} ${typeRun.name} (${UNKNOWN_TYPE} below ${(typeRun.minProbability * 100).toFixed(0)} %)`,
        );
      const w = Math.min(48, Math.max(8, ...ins.items.map((i) => i.name.length)));
      io.out(`${'file'.padEnd(w)}  verdict  class            confidence  P(defect)${typeRun ? '  defect type' : ''}`);
      for (const i of ins.items) {
        const type =
          !typeRun || !i.defectType
            ? ''
            : `  ${i.defectType.known ? i.defectType.key : UNKNOWN_TYPE} (${(i.defectType.probability * 100).toFixed(1)}% ${i.defectType.key})`;
        io.out(
          `${i.name.padEnd(w)}  ${i.verdict.toUpperCase().padEnd(7)}  ${i.predictedKey.padEnd(15)}  ${(i.confidence * 100).toFixed(1).padStart(9)}%  ${
            i.defectScore === null ? '        –' : i.defectScore.toFixed(3).padStart(9)
          }${type}`,
        );
      }
      for (const k of unreadableOf(ins)) io.out(`${k.path}  ${UNREADABLE_VERDICT} (${k.code}): ${k.reason}`);
      for (const k of ins.skipped) if (k.code === 'not-an-image') io.out(`skipped ${k.path}: ${k.reason}`);
      io.out(`${ins.items.length} images, ${ng} NG, ${ins.imagesPerSecond.toFixed(1)} images/s`);
    }
    return 0;
  },
};
