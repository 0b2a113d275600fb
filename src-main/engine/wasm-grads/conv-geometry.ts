/**
 * Padding arithmetic shared by the convolution gradients. Both gradient
 * families are rewritten as stride-1 forward convolutions (which XNNPACK runs
 * fast) over a padded, possibly zero-interleaved tensor; the amounts can come
 * out negative for 'valid'-style leftovers, which means cropping instead.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope, SpatialPad } from './kernel-scope.ts';

/** Signed [before, after] amounts per spatial axis: negative = crop. */
export type SignedPad = [[number, number], [number, number]];

/**
 * Pads for the input gradient of a conv with filter size f, stride s and
 * leading pad `padBefore` whose output had `outSize` positions along an axis
 * of input length `inSize`: the output gradient, zero-interleaved to
 * outSize * s positions, is correlated with the flipped filter.
 */
export function inputGradPad(inSize: number, f: number, s: number, padBefore: number, outSize: number): [number, number] {
  const before = f - 1 - padBefore;
  const after = inSize + f - 1 - outSize * s - before;
  return [before, after];
}

/**
 * Pads for the filter gradient computed as a correlation of the (padded)
 * input with the output gradient used as a kernel dilated by the stride: the
 * result must have exactly f positions.
 */
export function filterGradPad(inSize: number, f: number, s: number, padBefore: number, outSize: number): [number, number] {
  const after = f + s * (outSize - 1) - inSize - padBefore;
  return [padBefore, after];
}

/**
 * Crops the negative parts of `pad` off `x` [b, h, w, c] and returns the
 * remaining non-negative padding for the convolution to apply.
 */
export function cropNegative(s: KernelScope, x: TensorInfo, pad: SignedPad): { x: TensorInfo; pad: SpatialPad } {
  const [[top, bottom], [left, right]] = pad;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  let out = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    out = s.slice(x, [0, cropTop, cropLeft, 0], [b, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  return {
    x: out,
    pad: [
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
    ],
  };
}

/**
 * dy [b, oh, ow, c] -> [b, oh*sh, ow*sw, c] with dy[i, j] at (i*sh, j*sw) and
 * zeros elsewhere (the trailing sh-1 / sw-1 zeros are accounted for by
 * inputGradPad). One rank-6 pad instead of a scatter: XNNPACK's constant pad
 * writes it in a single pass.
 */
export function zeroInterleave(s: KernelScope, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [b, oh, ow, c] = dy.shape as [number, number, number, number];
  const six = s.reshape(dy, [b, oh, 1, ow, 1, c]);
  const padded = s.pad(six, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return s.reshape(padded, [b, oh * sh, ow * sw, c]);
}
