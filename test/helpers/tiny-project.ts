/**
 * A small project for export and inspect tests, fast enough for a unit test: a few NEU photos (200 px) in two
 * labelled folders, and a random-weight binary MobileNet (OK / scratch) saved as a Kensa model and imported as the
 * active run (no training).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { buildClassifier, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';
import { writeModelFolder } from '../../src-main/services/training/model/saved-model.ts';
import { modelArtifacts } from '../../src-main/engine/model/tf-util.ts';
import { Services } from '../../src-main/services/services.ts';

export const NEU_IMAGES = resolve(import.meta.dirname, '../../../shared/datasets/neu-det/images');

export interface TinyProject {
  tmp: string;
  s: Services;
  api: KensaApi;
  projectDir: string;
  runId: number;
  dispose(): Promise<void>;
}

/** A NEU photo shrunk to `size` px (JPEG, or PNG for a .png target). */
export async function neuPhoto(cls: string, n: number, to: string, size = 64): Promise<void> {
  const img = sharp(join(NEU_IMAGES, cls, `${cls}_${n}.jpg`)).resize(size, size);
  await (to.endsWith('.png') ? img.png() : img.jpeg({ quality: 90 })).toFile(to);
}

export async function tinyProject(prefix: string, perClass = 3): Promise<TinyProject> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'res'), host: { mode: 'cli', electronVersion: null } });
  const api = createHandlers(s);
  const projectDir = join(tmp, 'project');
  await api.createProject(projectDir, 'export test');
  const project = s.projects.require();
  const src = join(tmp, 'src');
  for (const cls of ['crazing', 'scratches']) {
    mkdirSync(join(src, cls), { recursive: true });
    for (let i = 1; i <= perClass; i++) copyFileSync(join(NEU_IMAGES, cls, `${cls}_${i}.jpg`), join(src, cls, `${cls}_${i}.jpg`));
  }
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { crazing: { defectTypeId: ok.id } }, createUnknown: true },
  });
  const used = new Set(project.db.prepare('SELECT DISTINCT label_id FROM images').pluck().all() as number[]);
  const defect = listTypes(project.db).find((t) => !t.isOk && used.has(t.id))!;
  await tf.setBackend('cpu');
  const model = buildClassifier(parseBackbone('mobilenet_v1_0.25'), 96, 2, 0, 7);
  const modelDir = join(tmp, 'model');
  writeModelFolder(modelDir, await modelArtifacts(model), {
    format: 'kensa-model',
    version: 1,
    runId: null,
    name: 'random',
    task: 'binary',
    backbone: 'mobilenet_v1_0.25',
    inputSize: 96,
    classes: [
      { key: ok.key, nameEn: ok.nameEn, nameJa: ok.nameJa, color: ok.color, isOk: true },
      { key: defect.key, nameEn: defect.nameEn, nameJa: defect.nameJa, color: defect.color, isOk: false },
    ],
    threshold: 0.5,
    preprocessing: { resize: 'fill', channels: 'rgb (grey repeated)', scale: '[-1,1]' },
    layers: { lastConv: 'conv_pw_13_relu', gap: 'gap', dropout: 'head_dropout', dense: 'head_dense' },
    metrics: { valAccuracy: null, valLoss: null, testAccuracy: null },
    createdAt: new Date().toISOString(),
    kensaVersion: 'test',
  });
  model.dispose();
  const runId = (await api.importModel(modelDir)).id;
  await api.setActiveModel(runId);
  return {
    tmp,
    s,
    api,
    projectDir,
    runId,
    async dispose() {
      await s.dispose();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
