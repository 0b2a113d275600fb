/**
 * Grad-CAM layers of a backbone: the output of each block after the stem, named as mobilenet.ts names them
 * (v1: conv_pw_k_relu; v2: expanded_conv_project_BN, block_k_add or block_k_project_BN, then out_relu).
 * Arithmetic on the backbone description only: no model is built.
 */
import type { HeatmapLayer } from '../../shared/heatmap-types.ts';
import { featureShapeAfter, parseBackbone } from '../training/model/backbone-table.ts';

/** Large enough that every stride-2 block halves the side (to tell strides apart from the shapes). */
const PROBE = 1024;

export function heatmapLayers(backbone: string, inputSize: number): HeatmapLayer[] {
  const spec = parseBackbone(backbone);
  const out: HeatmapLayer[] = [];
  for (let b = 1; b <= spec.blocks; b++) {
    const [side = 1, , channels = 0] = featureShapeAfter(spec, b, inputSize);
    let name: string;
    if (spec.version === 1) name = `conv_pw_${b}_relu`;
    else if (b === spec.blocks) name = 'out_relu';
    else if (b === 1) name = 'expanded_conv_project_BN';
    else {
      const [s0, , c0] = featureShapeAfter(spec, b - 1, PROBE);
      const [s1, , c1] = featureShapeAfter(spec, b, PROBE);
      name = s0 === s1 && c0 === c1 ? `block_${b - 1}_add` : `block_${b - 1}_project_BN`;
    }
    const stride = PROBE / featureShapeAfter(spec, b, PROBE)[0]!;
    out.push({ name, block: b, stride, resolution: side, channels, isDefault: name === spec.lastConvLayer });
  }
  return out;
}
