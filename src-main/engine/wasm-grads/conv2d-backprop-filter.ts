/**
 * Conv2DBackpropFilter for wasm (tfjs-backend-wasm 4.22 has none).
 *
 * dW[kh, kw, i, o] = sum over b, y, x of xpad[b, kh + sh*y, kw + sw*x, i] * dy[b, y, x, o].
 *
 * - 1x1, unpadded (every MobileNet pointwise conv): dW = X^T [ci, N] @ DY [N, co]
 *   with N = b*oh*ow, one XNNPACK GEMM after an explicit transpose (the wasm
 *   BatchMatMul's transposeA path is a scalar loop).
 * - anything else (the 3x3 stride-2 stem): the sum above is itself a stride-1
 *   convolution whose batch is ci, whose channels are b and whose kernel is dy
 *   dilated by the stride: conv2d(x^T [ci, H, W, b], dy^T [oh, ow, b, co],
 *   dilation [sh, sw]) = [ci, fh, fw, co]. That keeps the work inside one
 *   XNNPACK convolution instead of fh*fw strided slices (the wasm StridedSlice
 *   with strides != 1 is ~10x slower than a plain slice).
 */
import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { cropNegative, filterGradPad } from './conv-geometry.ts';
import { WASM, assertFloat32, inKernelScope, shape4 } from './kernel-scope.ts';

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) throw new Error('wasm-grads: Conv2DBackpropFilter needs x and dy');
  assertFloat32(x, 'x');
  assertFloat32(dy, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;

  return inKernelScope(backend, (s): TensorInfo => {
    const channelsFirst = dataFormat === 'NCHW';
    // NCHW is rare in tfjs (layers use channelsLast); transposing keeps one code path.
    const xh = channelsFirst ? s.transpose(x, [0, 2, 3, 1]) : x;
    const dyh = channelsFirst ? s.transpose(dy, [0, 2, 3, 1]) : dy;
    const info = backend_util.computeConv2DInfo(shape4(xh, 'x'), filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { filterHeight: fh, filterWidth: fw, padInfo } = info;
    const n = b * oh * ow;

    const unpadded1x1 = fh === 1 && fw === 1 && padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0;
    if (unpadded1x1) {
      const sampled =
        sh === 1 && sw === 1 && oh === h && ow === w
          ? xh
          : s.stridedSlice(xh, [0, 0, 0, 0], [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, ci], [1, sh, sw, 1]);
      const xt = s.transpose(s.reshape(sampled, [n, ci]), [1, 0]); // [ci, N]
      const dW = s.matMul(xt, s.reshape(dyh, [n, co])); // [ci, co]
      return s.reshape(dW, [1, 1, ci, co]);
    }

    const { x: xc, pad: p } = cropNegative(s, xh, [filterGradPad(h, fh, sh, padInfo.top, oh), filterGradPad(w, fw, sw, padInfo.left, ow)]);
    const xT = s.transpose(xc, [3, 1, 2, 0]); // [ci, H, W, b]
    const dyT = s.transpose(dyh, [1, 2, 0, 3]); // [oh, ow, b, co]
    const out = s.conv2d(xT, dyT, p, [sh, sw]); // [ci, fh, fw, co]
    return s.transpose(out, [1, 2, 0, 3]);
  });
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM,
  kernelFunc: conv2DBackpropFilter,
};
