/**
 * DepthwiseConv2dNativeBackpropFilter / BackpropInput for wasm (4.22 has
 * neither). Both are rewritten as one stride-1 XNNPACK depthwise convolution.
 *
 * Filter [fh, fw, c, m]: dW[kh, kw, c, j] = sum over b, y, x of
 *   xpad[b, kh + sh*y, kw + sw*x, c] * dy[b, y, x, c*m + j].
 *   Moving the batch into the channels (x^T [1, H, W, b*c]) makes that a
 *   depthwise correlation with dy^T [oh, ow, b*c, m] as the kernel, dilated by
 *   the stride; the per-image results [fh, fw, b, c*m] are then summed over b.
 *   Measured on [16, 14, 14, 384]: ~3x faster than nine shifted slices
 *   multiplied and reduced (stride 1), ~20x for stride 2 (strided slices are
 *   slow on wasm).
 *
 * Input [b, h, w, c]: dx = depthwise correlation of the zero-interleaved,
 *   padded dy with the spatially flipped filter, as a [fh, fw, c*m, 1] filter;
 *   for m > 1 the m partial inputs per channel are summed.
 *
 * Dilated depthwise convolutions are refused, as tfjs's own gradient does.
 */
import { backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { cropNegative, filterGradPad, inputGradPad, zeroInterleave } from './conv-geometry.ts';
import { WASM, assertFloat32, inKernelScope, shape4 } from './kernel-scope.ts';

function assertUndilated(info: backend_util.Conv2DInfo, kernelName: string): void {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`wasm-grads: ${kernelName} supports dilation 1 only`);
  }
}

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) throw new Error('wasm-grads: DepthwiseConv2dNativeBackpropFilter needs x and dy');
  assertFloat32(x, 'x');
  assertFloat32(dy, 'dy');
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(shape4(x, 'x'), filterShape, strides, dilations, pad, dimRoundingMode, true);
  assertUndilated(info, DepthwiseConv2dNativeBackpropFilter);
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, padInfo } = info;
  const m = filterShape[3];

  return inKernelScope(backend, (s): TensorInfo => {
    const { x: xc, pad: p } = cropNegative(s, x, [filterGradPad(h, fh, sh, padInfo.top, oh), filterGradPad(w, fw, sw, padInfo.left, ow)]);
    const [, hc, wc] = shape4(xc, 'x');
    const xT = s.reshape(s.transpose(xc, [1, 2, 0, 3]), [1, hc, wc, b * c]);
    const dyT = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, b * c, m]);
    const perImage = s.depthwiseConv2d(xT, dyT, p, [sh, sw]); // [1, fh, fw, b*c*m]
    if (b === 1) return s.reshape(perImage, [fh, fw, c, m]);
    const summed = s.sum(s.reshape(perImage, [fh * fw, b, c * m]), [1]); // [fh*fw, c*m]
    return s.reshape(summed, [fh, fw, c, m]);
  });
};

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs;
  if (dy === undefined || filter === undefined) {
    throw new Error('wasm-grads: DepthwiseConv2dNativeBackpropInput needs dy and filter');
  }
  assertFloat32(dy, 'dy');
  assertFloat32(filter, 'filter');
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const filterShape = shape4(filter, 'filter');
  const info = backend_util.computeConv2DInfo(inputShape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  assertUndilated(info, DepthwiseConv2dNativeBackpropInput);
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, padInfo } = info;
  const m = filterShape[3];

  return inKernelScope(backend, (s): TensorInfo => {
    const { x: dyPadded, pad: p } = cropNegative(s, zeroInterleave(s, dy, sh, sw), [
      inputGradPad(h, fh, sh, padInfo.top, oh),
      inputGradPad(w, fw, sw, padInfo.left, ow),
    ]);
    const flipped = s.reshape(s.reverse(filter, [0, 1]), [fh, fw, c * m, 1]);
    const dx = s.depthwiseConv2d(dyPadded, flipped, p, [1, 1]); // [b, h, w, c*m]
    if (m === 1) return dx;
    return s.sum(s.reshape(dx, [b, h, w, c, m]), [4]);
  });
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: WASM,
  kernelFunc: depthwiseBackpropFilter,
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: WASM,
  kernelFunc: depthwiseBackpropInput,
};
