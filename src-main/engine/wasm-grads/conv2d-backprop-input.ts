/**
 * Conv2DBackpropInput for wasm, replacing the stock one.
 *
 * tfjs-backend-wasm 4.22 does have this kernel, but as a scalar C++ loop: on a
 * [16, 14, 14, 384] pointwise layer it takes ~9x the forward conv's time,
 * which made it the largest single cost of a MobileNet fine-tuning step. Here:
 * - 1x1, stride 1, unpadded: dx = DY [N, co] @ W^T [co, ci], one XNNPACK GEMM;
 * - strided, filter at least as large as the stride: one stride-1 conv of dy
 *   per output phase, merged into one (phase-input-grad.ts);
 * - otherwise: dx = stride-1 conv2d of the zero-interleaved, padded dy with
 *   the spatially flipped filter whose in/out channels are swapped
 *   ([fh, fw, co, ci]), run by XNNPACK.
 * NCHW is passed to the stock kernel, which supports it.
 */
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { cropNegative, inputGradPad, zeroInterleave } from './conv-geometry.ts';
import { WASM, assertFloat32, inKernelScope, shape4 } from './kernel-scope.ts';
import { phaseInputGrad } from './phase-input-grad.ts';
import { runStock } from './stock-kernels.ts';

const conv2DBackpropInput: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) throw new Error('wasm-grads: Conv2DBackpropInput needs dy and filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;

  if (dataFormat === 'NCHW') return runStock(Conv2DBackpropInput, args);
  assertFloat32(dy, 'dy');
  assertFloat32(filter, 'filter');

  return inKernelScope(backend, (s): TensorInfo => {
    const info = backend_util.computeConv2DInfo(
      inputShape,
      shape4(filter, 'filter'),
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { filterHeight: fh, filterWidth: fw, padInfo } = info;

    const plain1x1 =
      fh === 1 &&
      fw === 1 &&
      sh === 1 &&
      sw === 1 &&
      padInfo.top === 0 &&
      padInfo.left === 0 &&
      padInfo.bottom === 0 &&
      padInfo.right === 0;
    if (plain1x1) {
      const wT = s.transpose(s.reshape(filter, [ci, co]), [1, 0]); // [co, ci]
      const dx = s.matMul(s.reshape(dy, [b * oh * ow, co]), wT); // [N, ci]
      return s.reshape(dx, [b, h, w, ci]);
    }

    const phased =
      (sh > 1 || sw > 1) && phaseInputGrad(s, dy, filter, { b, h, w, c: ci, fh, fw, sh, sw, top: padInfo.top, left: padInfo.left, oh, ow });
    if (phased) return phased;
    const { x: dyPadded, pad: p } = cropNegative(s, zeroInterleave(s, dy, sh, sw), [
      inputGradPad(h, fh, sh, padInfo.top, oh),
      inputGradPad(w, fw, sw, padInfo.left, ow),
    ]);
    const flipped = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [fh, fw, co, ci]
    return s.conv2d(dyPadded, flipped, p, [1, 1]);
  });
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: WASM,
  kernelFunc: conv2DBackpropInput,
};
