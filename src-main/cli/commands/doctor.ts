import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { probeBackendsInChild } from '../../services/engine/probe-child.ts';
import { formatBackendReport } from '../../services/engine/report-text.ts';
import { builtInWeightsDirs } from '../../services/paths.ts';
import { locateBackboneWeights } from '../../services/training/model/backbone-weights.ts';
import { APP_VERSION } from '../../services/version.ts';
import { Project } from '../../services/projects/project.ts';
import type { CliCommand } from '../command.ts';

/** Pretrained weight folders (tfjs layers format: a model.json beside its shards). */
function findModels(dirs: string[]): { dir: string; models: string[] }[] {
  return dirs.map((dir) => ({
    dir,
    models: existsSync(dir) ? readdirSync(dir).filter((m) => existsSync(join(dir, m, 'model.json'))) : [],
  }));
}

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'Check this installation: Node/Electron, TensorFlow backends, pretrained models, a project',
  usage: 'kensa doctor [--project DIR] [--json]',
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { project: { type: 'string' }, json: { type: 'boolean', default: false } } });
    const s = io.services();
    // In a child process, as the app does: the CLI's own process never loads TensorFlow.js for a report.
    const backend = await probeBackendsInChild();
    const weightDirs = [...s.settings.get().weightsDirs, ...builtInWeightsDirs(s.resourcesDir)];
    const models = findModels(weightDirs);
    // Per backbone, as the training wizard marks them: where Start finds its ImageNet weights, or that it does not.
    const backbones = locateBackboneWeights(weightDirs).backbones;
    let project: { dir: string; ok: boolean; message: string } | null = null;
    if (values.project) {
      try {
        const p = Project.open(values.project);
        const info = p.info();
        p.close();
        project = { dir: values.project, ok: true, message: `${info.name}: ${info.imageCount} images, schema ${info.schemaVersion}` };
      } catch (err) {
        project = { dir: values.project, ok: false, message: `${(err as Error).name}: ${(err as Error).message}` };
      }
    }
    const report = {
      kensa: APP_VERSION,
      node: process.versions.node,
      electron: process.versions.electron ?? null,
      platform: `${process.platform}-${process.arch}`,
      configDir: s.configDir,
      backend,
      models,
      backbones,
      project,
    };
    if (values.json) {
      io.out(JSON.stringify(report));
    } else {
      io.out(
        `Kensa ${APP_VERSION} on Node ${report.node}${report.electron ? `, Electron ${report.electron}` : ' (no Electron: CLI / browser mode)'}, ${report.platform}`,
      );
      io.out(`Settings: ${s.configDir}`);
      io.out(formatBackendReport(backend));
      io.out('Pretrained weights:');
      for (const m of models) io.out(`  ${m.dir}: ${m.models.length ? m.models.join(', ') : '(none)'}`);
      const missing = backbones.filter((b) => b.dir === null);
      io.out(
        `Backbones with weights: ${
          backbones
            .filter((b) => b.dir !== null)
            .map((b) => b.backbone)
            .join(', ') || '(none)'
        }`,
      );
      if (missing.length)
        io.out(
          `Backbones without weights (put the TensorFlow.js layers-format folder of that name into a weights folder): ${missing.map((b) => `${b.backbone} (${b.folderName})`).join(', ')}`,
        );
      if (project) io.out(`Project ${project.dir}: ${project.ok ? 'OK' : 'PROBLEM'} - ${project.message}`);
    }
    return project && !project.ok ? 1 : 0;
  },
};
