/** conv + bias + ReLU / ReLU6 as one fused kernel with an input-only gradient (the fast graph's main op). */
import * as tf from '@tensorflow/tfjs';
import { windowGrad } from '../wasm-grads/activation-grads.ts';

/** The largest float32 below 6: y < 6 as y ≤ this, for the ReLU6 mask read from the output. */
const BELOW_SIX = Math.fround(6 - 2 ** -21);

/**
 * conv(x) + bias, then ReLU or ReLU6, as one fused forward kernel with a gradient for x only.
 * Backward: the activation's mask is read from the output (0 < y < 6 ⇔ 0 < z < 6, z the pre-activation; the stock
 * ReLU6 gradient also passes z = 6 exactly, a measure-zero difference), then the conv's input gradient: no filter
 * or bias gradient is computed, they are constants here.
 * @param x [N, H, W, Cin] → [N, H', W', Cout]
 */
export function fusedConvActivation(
  x: tf.Tensor4D,
  f: { kernel: tf.Tensor4D; bias: tf.Tensor1D },
  depthwise: boolean,
  strides: [number, number],
  pad: 'same' | 'valid',
  max: 6 | null,
): tf.Tensor4D {
  const activation = max === 6 ? 'relu6' : 'relu';
  const forward = (xx: tf.Tensor, save: tf.GradSaveFunc) => {
    // The kernel itself, not tf.fused.*: under tf.grad those fall back to conv, add and activation as three
    // kernels (tfjs-core's shouldFuse), and this op brings its own gradient anyway.
    const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation };
    const y = tf
      .engine()
      .runKernel(
        depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D',
        { x: xx, filter: f.kernel, bias: f.bias },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor4D;
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dz = windowGrad(dy, saved[0]!, { lo: 0, hi: max === 6 ? BELOW_SIX : Infinity, includeLo: false });
        const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, inputShape: x.shape };
        const kernel = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
        return tf.engine().runKernel(kernel, { dy: dz, filter: f.kernel }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      },
    };
  };
  // customGrad's declared signature takes (...Tensor | GradSaveFunc); this one is (x, save).
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor4D;
}
