import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.ts';
import { inspectHandlers } from '../../services/handlers/inspect.ts';
import type { CliCommand } from '../command.ts';

const USAGE = 'kensa inspect <project> <paths...> [--run R] [--threshold T] [--csv FILE] [--json]';

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
        csv: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const [projectDir, ...paths] = positionals;
    if (!projectDir || !paths.length) throw new ValidationError(`Give a project folder and at least one photo or folder.\nUsage: ${USAGE}`);
    const runId = values.run !== undefined ? Number(values.run) : undefined;
    if (runId !== undefined && (!Number.isInteger(runId) || runId <= 0))
      throw new ValidationError(`--run must be a run number, not ${values.run}.`);
    const threshold = values.threshold !== undefined ? Number(values.threshold) : undefined;
    const s = io.services();
    await s.projects.open(projectDir);
    const api = inspectHandlers(s);
    const snap = await api.startInspection({
      paths,
      ...(runId !== undefined ? { runId } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
    });
    const done = await s.tasks.wait(snap.id);
    if (done.state === 'failed')
      throw Object.assign(new Error(done.error?.message ?? 'Inspection failed'), { name: done.error?.name ?? 'Error' });
    if (done.state === 'cancelled') {
      io.err('Inspection cancelled.');
      return 1;
    }
    const { inspectionId } = done.result as { inspectionId: string };
    const ins = await api.getInspection(inspectionId);
    if (values.csv) {
      const r = await api.exportInspectionCsv(inspectionId, values.csv);
      if (!values.json) io.out(`CSV: ${r.file} (${r.rows} rows)`);
    }
    const ng = ins.items.filter((i) => i.verdict === 'ng').length;
    if (values.json) {
      io.out(JSON.stringify({ ok: true, inspection: ins }));
    } else {
      io.out(`Model: #${ins.runId} ${ins.runName}${ins.threshold !== null ? `, threshold ${ins.threshold.toFixed(3)} on P(defect)` : ''}`);
      const w = Math.min(48, Math.max(8, ...ins.items.map((i) => i.name.length)));
      io.out(`${'file'.padEnd(w)}  verdict  class            confidence  P(defect)`);
      for (const i of ins.items) {
        io.out(
          `${i.name.padEnd(w)}  ${i.verdict.toUpperCase().padEnd(7)}  ${i.predictedKey.padEnd(15)}  ${(i.confidence * 100).toFixed(1).padStart(9)}%  ${
            i.defectScore === null ? '        –' : i.defectScore.toFixed(3).padStart(9)
          }`,
        );
      }
      for (const k of ins.skipped) io.out(`skipped ${k.path}: ${k.reason}`);
      io.out(`${ins.items.length} images, ${ng} NG, ${ins.imagesPerSecond.toFixed(1)} images/s`);
    }
    return 0;
  },
};
