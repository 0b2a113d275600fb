/**
 * The wizard's "weights not found" marks: listBackboneWeights says, per backbone, where Start will find its ImageNet
 * weights (user weights folders first, then the built-in ones) or that none is there, by the same rule Start uses.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import { BACKBONES } from '../../src-main/shared/training-types.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { findBackboneWeights } from '../../src-main/services/training/model/backbone-weights.ts';
import { Services } from '../../src-main/services/services.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kensa-weights-'));
let s: Services;
let api: KensaApi;

function fakeModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [] }));
}

beforeAll(() => {
  s = new Services({ configDir: join(tmp, 'config'), resourcesDir: join(tmp, 'resources'), host: { mode: 'cli', electronVersion: null } });
  api = createHandlers(s);
  // A folder without model.json does not count as weights.
  mkdirSync(join(tmp, 'resources', 'models', 'mobilenet_v1_0.5_224'), { recursive: true });
});

afterAll(() => {
  s.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('listBackboneWeights', () => {
  it('marks the backbones whose weights are in no weights folder, with the folder name to get', async () => {
    const r = await api.listBackboneWeights();
    expect(r.backbones.map((b) => b.backbone)).toEqual([...BACKBONES]);
    expect(r.searched[0]).toBe(join(tmp, 'resources', 'models'));
    const v1full = r.backbones.find((b) => b.backbone === 'mobilenet_v1_1.0')!;
    expect(v1full.dir).toBeNull();
    expect(v1full.folderName).toBe('mobilenet_v1_1.0_224');
    expect(r.backbones.find((b) => b.backbone === 'mobilenet_v1_0.5')!.dir).toBeNull();
    // The development weights beside the repository (../shared/models) hold v1 0.25.
    expect(r.backbones.find((b) => b.backbone === 'mobilenet_v1_0.25')!.dir).toMatch(/mobilenet_v1_0\.25_224$/);
  });

  it('finds weights in a folder added in Settings, user folders before the built-in ones', async () => {
    const mine = join(tmp, 'my-weights');
    fakeModel(join(mine, 'mobilenet_v1_1.0_224'));
    fakeModel(join(mine, 'mobilenet_v1_0.25_224'));
    await api.updateSettings({ weightsDirs: [mine] });
    const r = await api.listBackboneWeights();
    expect(r.searched[0]).toBe(mine);
    expect(r.backbones.find((b) => b.backbone === 'mobilenet_v1_1.0')!.dir).toBe(join(mine, 'mobilenet_v1_1.0_224'));
    expect(r.backbones.find((b) => b.backbone === 'mobilenet_v1_0.25')!.dir).toBe(join(mine, 'mobilenet_v1_0.25_224'));
  });

  it('agrees with what Start looks up: marked missing exactly where Start would fail', async () => {
    const r = await api.listBackboneWeights();
    for (const b of r.backbones) {
      if (b.dir === null) expect(() => findBackboneWeights(b.backbone, r.searched)).toThrow(/weights for .* were not found/);
      else expect(findBackboneWeights(b.backbone, r.searched)).toBe(b.dir);
    }
    expect(r.backbones.some((b) => b.dir === null)).toBe(true);
  });

  it('kensa doctor lists the same backbones without weights, with the folder name to get', () => {
    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/kensa.js'), 'doctor'], {
      encoding: 'utf8',
      env: { ...process.env, KENSA_HOME: join(tmp, 'doctor-home') },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Backbones with weights: .*mobilenet_v1_0\.25/);
    expect(r.stdout).toContain('mobilenet_v1_1.0 (mobilenet_v1_1.0_224)');
  });
});
