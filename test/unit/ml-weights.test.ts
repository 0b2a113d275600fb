import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackend } from '../../src-main/engine/wasm-grads/setup-wasm.ts';
import { blockOfLayer, buildClassifier, buildSegment, featureShapeAfter, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';
import { assignWeightsByName, readWeightSet } from '../../src-main/engine/model/weights.ts';
import { findBackboneWeights } from '../../src-main/services/training/model/backbone-weights.ts';
import { resolveConfig } from '../../src-main/services/training/train/config.ts';

const MODELS = resolve(import.meta.dirname, '../../../shared/models');
const V1_025 = join(MODELS, 'mobilenet_v1_0.25_224');
const tmp = mkdtempSync(join(tmpdir(), 'kensa-weights-'));

beforeAll(async () => {
  await initWasmBackend();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MobileNet built in code, weights loaded by Keras layer name', () => {
  it('v1 0.25 at 96 px: every backbone layer loads; features match the original 224 model topology', () => {
    const spec = parseBackbone('mobilenet_v1_0.25');
    const set = readWeightSet(V1_025);
    const before = tf.memory().numTensors;
    const m = buildClassifier(spec, 96, 3, 0.2);
    const names = m.layers.map((l) => l.name);
    for (const n of [
      'conv1',
      'conv1_bn',
      'conv1_relu',
      'conv_dw_1',
      'conv_dw_1_bn',
      'conv_dw_1_relu',
      'conv_pw_1',
      'conv_pw_13_relu',
      'gap',
      'head_dropout',
      'head_dense',
    ]) {
      expect(names).toContain(n);
    }
    const loaded = assignWeightsByName(m, set, { optional: (n) => n.startsWith('head_') });
    expect(loaded).toHaveLength(54); // conv1 + bn + 13 x (dw, dw_bn, pw, pw_bn)
    const k = m.getLayer('conv_pw_13').getWeights()[0]!;
    expect(k.shape).toEqual([1, 1, 256, 256]);
    expect(Array.from(k.dataSync().slice(0, 4))).toEqual(Array.from(set.byName.get('conv_pw_13/kernel')!.values.slice(0, 4)));
    const out = tf.tidy(() => m.predict(tf.zeros([2, 96, 96, 3])) as tf.Tensor);
    expect(out.shape).toEqual([2, 3]);
    out.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(featureShapeAfter(spec, 13, 96)).toEqual([3, 3, 256]);
    expect(blockOfLayer(spec, 'conv_pw_7_bn')).toBe(7);
    expect(blockOfLayer(spec, 'conv1')).toBe(0);
  });

  it('v2 0.35 at 128 px: Keras v2 names (Conv1, expanded_conv_*, block_k_*, out_relu) load, 17 blocks', () => {
    const spec = parseBackbone('mobilenet_v2_0.35');
    expect(spec.blocks).toBe(17);
    const m = buildSegment(spec, 0, 17, [128, 128, 3], { gap: true });
    const loaded = assignWeightsByName(m, readWeightSet(join(MODELS, 'mobilenet_v2_0.35_224_no_top')));
    expect(loaded).toContain('expanded_conv_depthwise');
    expect(loaded).toContain('block_16_project_BN');
    expect(loaded).toContain('Conv_1_bn');
    expect(m.outputs[0]!.shape).toEqual([null, 1280]);
    expect(blockOfLayer(spec, 'expanded_conv_project')).toBe(1);
    expect(blockOfLayer(spec, 'block_16_expand')).toBe(17);
    expect(blockOfLayer(spec, 'out_relu')).toBe(17);
    m.dispose();
  });

  it('a segment (blocks 12-13) takes the features of the prefix and gives the same result as the whole', () => {
    const spec = parseBackbone('mobilenet_v1_0.25');
    const set = readWeightSet(V1_025);
    const whole = buildSegment(spec, 0, 13, [96, 96, 3], { gap: true });
    const prefix = buildSegment(spec, 0, 11, [96, 96, 3]);
    const tail = buildSegment(spec, 12, 13, featureShapeAfter(spec, 11, 96), { gap: true });
    for (const m of [whole, prefix, tail]) assignWeightsByName(m, set);
    const diff = tf.tidy(() => {
      const x = tf.randomUniform([1, 96, 96, 3], -1, 1, 'float32', 1);
      const a = whole.predict(x) as tf.Tensor;
      const b = tail.predict(prefix.predict(x) as tf.Tensor) as tf.Tensor;
      return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    });
    expect(diff).toBeLessThan(1e-5);
    for (const m of [whole, prefix, tail]) m.dispose();
  });

  it('weights of another width are a clear ModelWeightsError', () => {
    const m = buildSegment(parseBackbone('mobilenet_v1_0.25'), 0, 13, [96, 96, 3]);
    let err: Error | null = null;
    try {
      assignWeightsByName(m, readWeightSet(join(MODELS, 'mobilenet_v1_0.75_224')));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe('ModelWeightsError');
    expect(err?.message).toMatch(/do not fit this model/);
    expect(err?.message).toMatch(/conv1\/kernel: file \[3,3,3,24\], model \[3,3,3,8\]/);
    m.dispose();
  });

  it('a missing shard, a missing folder and an unrelated model are ModelWeightsErrors', () => {
    const broken = join(tmp, 'broken');
    cpSync(V1_025, broken, { recursive: true });
    rmSync(join(broken, 'group29-shard1of1'));
    expect(() => readWeightSet(broken)).toThrow(/group29-shard1of1 is missing/);
    expect(() => readWeightSet(join(tmp, 'nope'))).toThrow(expect.objectContaining({ name: 'ModelWeightsError' }));
    const truncated = join(tmp, 'truncated');
    cpSync(V1_025, truncated, { recursive: true });
    writeFileSync(join(truncated, 'group29-shard1of1'), Buffer.alloc(10));
    expect(() => readWeightSet(truncated)).toThrow(/truncated/);
    // v2 weights into a v1 model: names missing
    const m = buildSegment(parseBackbone('mobilenet_v1_0.25'), 0, 2, [96, 96, 3]);
    expect(() => assignWeightsByName(m, readWeightSet(join(MODELS, 'mobilenet_v2_0.35_224_no_top')))).toThrow(/lack \d+ tensor/);
    m.dispose();
  });

  it('finds ImageNet folders by backbone; a missing one is a ModelWeightsError', () => {
    expect(findBackboneWeights('mobilenet_v1_0.75', [tmp, MODELS])).toBe(join(MODELS, 'mobilenet_v1_0.75_224'));
    expect(findBackboneWeights('mobilenet_v2_1.0', [MODELS])).toBe(join(MODELS, 'mobilenet_v2_1.0_224_no_top'));
    expect(() => findBackboneWeights('mobilenet_v1_1.0', [MODELS])).toThrow(expect.objectContaining({ name: 'ModelWeightsError' }));
    expect(() => resolveConfig({ backbone: 'resnet50' as never })).toThrow(/Unknown backbone/);
    expect(() => resolveConfig({ inputSize: 64 })).toThrow(/96 to 640/);
    expect(() => resolveConfig({ fineTuneBlocks: 14 })).toThrow(/0 to 13/);
    expect(resolveConfig({ backbone: 'mobilenet_v2_0.35', fineTuneBlocks: 17 }).fineTuneBlocks).toBe(17);
  });
});
