import { describe, expect, it } from 'vitest';
import { heatmapLayers } from '../../src-main/services/heatmaps/layers.ts';
import { buildSegment, parseBackbone } from '../../src-main/engine/model/mobilenet.ts';

describe('heatmapLayers', () => {
  it('lists v1 pointwise outputs with strides and sides at the input size', () => {
    const l = heatmapLayers('mobilenet_v1_0.25', 224);
    expect(l.map((x) => x.name)).toEqual(Array.from({ length: 13 }, (_, i) => `conv_pw_${i + 1}_relu`));
    expect(l.map((x) => x.stride)).toEqual([2, 4, 4, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32]);
    expect(l[0]).toMatchObject({ block: 1, resolution: 112, channels: 16, isDefault: false });
    expect(l[12]).toMatchObject({ block: 13, resolution: 7, channels: 256, isDefault: true });
    expect(l.filter((x) => x.isDefault)).toHaveLength(1);
  });

  it('lists v2 block outputs (residual adds where present) ending at out_relu', () => {
    const l = heatmapLayers('mobilenet_v2_0.35', 200);
    expect(l).toHaveLength(17);
    expect(l.slice(0, 4).map((x) => x.name)).toEqual([
      'expanded_conv_project_BN',
      'block_1_project_BN',
      'block_2_add',
      'block_3_project_BN',
    ]);
    expect(l[16]).toMatchObject({ name: 'out_relu', stride: 32, resolution: 7, channels: 1280, isDefault: true });
  });

  it('names layers that exist in the built backbone with the listed shapes', () => {
    for (const id of ['mobilenet_v1_0.25', 'mobilenet_v2_0.35']) {
      const spec = parseBackbone(id);
      const model = buildSegment(spec, 0, spec.blocks, [96, 96, 3]);
      try {
        for (const x of heatmapLayers(id, 96)) {
          expect(model.getLayer(x.name).outputShape, x.name).toEqual([null, x.resolution, x.resolution, x.channels]);
        }
      } finally {
        model.dispose();
      }
    }
  });
});
