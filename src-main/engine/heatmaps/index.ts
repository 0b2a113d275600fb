/**
 * Heatmap math over a `tf.LayersModel` (pure: tensors in, small arrays out; no catalog, no files).
 *
 * - CAM (Zhou et al.): exact for conv → GAP → dense softmax. M_c(y,x) = Σ_k w_{k,c} f_k(y,x) over the last
 *   conv feature maps; one forward pass of a two-output model [features, probabilities].
 * - Grad-CAM (Selvaraju et al.) at any layer with a 4-D output: weights α_k = mean_{y,x} ∂S_c/∂A_k, map ReLU(Σ_k α_k A_k).
 * - Saliency (Simonyan et al.): max over channels of |∂S_c/∂x|.
 * - SmoothGrad (Smilkov et al.): saliency averaged over n copies x + N(0, σ²), run through the network in batches.
 *
 * S_c is the class logit (the pre-softmax score of the dense head) when the last layer is a dense softmax, else the
 * class probability. Every function keeps its tensors in tf.tidy; results come back as plain Float32Arrays.
 *
 * Files: layers.ts (which layers), fold.ts + fused-conv.ts (the BN-folded fast graph), graph.ts (running it), cam.ts,
 * gradcam.ts, saliency.ts, smoothgrad.ts. This module is what the engine's heatmaps job, tests and benches import.
 */
import type { HeatmapMethod } from '../../shared/heatmap-types.ts';

// Post-processing on plain arrays lives in grid.ts (TF-free, so the process that owns the catalog can use it).
export { argmax, normalise, normaliseFor, resizeBilinear, type Grid } from '../../services/heatmaps/grid.ts';

export type { HeatmapMethod };
export { defaultGradCamLayer, findCamLayers, spatialLayers, type CamLayers } from './layers.ts';
export { releaseHeatmapResources } from './fold.ts';
export { classScores, forward, gradientFolding } from './graph.ts';
export { cam, camModel, type CamModel, type CamResult } from './cam.ts';
export { gradCam } from './gradcam.ts';
export { predictClasses, saliency } from './saliency.ts';
export { defaultSmoothGradBatch, saliencyReductionFor, smoothGrad, type SaliencyReduction, type SmoothGradOptions } from './smoothgrad.ts';
