/**
 * The layers the heatmap methods read: CAM's feature, pooling and dense layers, Grad-CAM's default layer and the
 * layers it may choose from. Plain graph walking over a `tf.LayersModel`; no tensors.
 */
import type * as tf from '@tensorflow/tfjs';

/** The layers CAM needs: the feature layer feeding global average pooling, and the dense head after it. */
export interface CamLayers {
  features: tf.layers.Layer;
  gap: tf.layers.Layer;
  dense: tf.layers.Layer;
}

/** A layer's Keras class name (Conv2D, BatchNormalization, ReLU, Dense, …). */
export const className = (l: tf.layers.Layer): string => l.getClassName();

/** The layer whose output a layer consumes (first inbound node, first input). */
function inputLayerOf(model: tf.LayersModel, layer: tf.layers.Layer): tf.layers.Layer {
  const sym = layer.inboundNodes[0]?.inputTensors[0];
  const src = sym?.sourceLayer as tf.layers.Layer | undefined;
  if (!src || !model.layers.includes(src)) throw new Error(`Layer ${layer.name} has no input layer in ${model.name}`);
  return src;
}

/**
 * Finds the CAM layers: a GlobalAveragePooling2D (named `gapName` when given, else the last one) and the last
 * Dense layer. Throws when the model has no GAP head (use Grad-CAM then).
 */
export function findCamLayers(model: tf.LayersModel, gapName?: string): CamLayers {
  const gaps = model.layers.filter((l) => className(l) === 'GlobalAveragePooling2D' && (!gapName || l.name === gapName));
  const gap = gaps[gaps.length - 1];
  if (!gap) throw new Error(`Model ${model.name} has no global average pooling layer: CAM needs a GAP head (use Grad-CAM).`);
  const denses = model.layers.filter((l) => className(l) === 'Dense');
  const dense = denses[denses.length - 1];
  if (!dense) throw new Error(`Model ${model.name} has no dense head.`);
  return { features: inputLayerOf(model, gap), gap, dense };
}

/** The last layer with a 4-D output before global pooling: Grad-CAM's default layer. */
export function defaultGradCamLayer(model: tf.LayersModel): string {
  try {
    return findCamLayers(model).features.name;
  } catch {
    const convs = model.layers.filter((l) => {
      const s = l.outputShape as number[];
      return Array.isArray(s) && s.length === 4 && typeof s[0] !== 'object';
    });
    const last = convs[convs.length - 1];
    if (!last) throw new Error(`Model ${model.name} has no layer with a spatial output.`);
    return last.name;
  }
}

/** Layers with a spatial (4-D) output, in model order: the choices for Grad-CAM. */
export function spatialLayers(model: tf.LayersModel): string[] {
  return model.layers
    .filter((l) => className(l) !== 'InputLayer')
    .filter((l) => {
      const s = l.outputShape as unknown;
      return Array.isArray(s) && s.length === 4 && !Array.isArray(s[0]);
    })
    .map((l) => l.name);
}
