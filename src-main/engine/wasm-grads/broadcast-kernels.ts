/**
 * Tile and Sum for wasm, replacing the stock ones for the shapes that
 * BatchNormalization's gradient produces.
 *
 * tfjs-core's FusedBatchNorm gradient tiles rsqrt(variance) from [1, 1, 1, C]
 * to the full activation shape and reduces over [0, 1, 2] for gamma and beta.
 * The stock wasm Tile computes a multi-index per element (~100x slower than a
 * copy: it was the largest kernel of a fine-tuning step), and the stock Sum
 * transposes the reduced axes innermost before reducing (~10x slower than
 * one pass). Here:
 * - Tile that only repeats size-1 axes is a broadcast, i.e. a rank-1 product
 *   XNNPACK's GEMM writes in one pass: ones [R, 1] @ x [1, K] (or
 *   x [K, 1] @ ones [1, R] when the repeated axes are the trailing ones);
 * - Sum over leading axes is XNNPACK's average pooling of x [1, N, 1, M] over
 *   an [N, 1] window, times N: one pass, no weight packing (a ones [1, N] @ x
 *   GEMM would repack x as weights on every call), and in float32 at least as
 *   accurate as the stock kernel (relative error 5e-7 vs 6e-7 on [3136, 384]).
 * Other cases go to the stock kernels.
 */
import { Sum, Tile, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo, TileAttrs } from '@tensorflow/tfjs';
import { WASM, inKernelScope } from './kernel-scope.ts';
import type { KernelScope } from './kernel-scope.ts';
import { runStock } from './stock-kernels.ts';

function ones(s: KernelScope, shape: number[]): TensorInfo {
  return s.run('Fill', {}, { shape, value: 1, dtype: 'float32' });
}

type Segment = { kind: 'keep' | 'repeat'; size: number };

/**
 * Collapses `x.shape` tiled by `reps` into alternating keep/repeat segments,
 * or undefined when an axis longer than 1 is repeated (a real tiling).
 */
function broadcastSegments(shape: number[], reps: number[]): Segment[] | undefined {
  const segments: Segment[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i] ?? 1;
    const r = reps[i] ?? 1;
    if (d > 1 && r > 1) return undefined;
    if (d * r === 1) continue;
    const kind = r > 1 ? 'repeat' : 'keep';
    const last = segments[segments.length - 1];
    if (last?.kind === kind) last.size *= d * r;
    else segments.push({ kind, size: d * r });
  }
  return segments;
}

const tile: KernelFunc = (args) => {
  const { x } = args.inputs;
  const { reps } = args.attrs as unknown as TileAttrs;
  if (x === undefined) throw new Error('wasm-grads: Tile needs x');
  const segments = x.dtype === 'float32' ? broadcastSegments(x.shape, reps) : undefined;
  const [first, second] = segments ?? [];
  const simple =
    segments !== undefined && segments.length <= 2 && (first?.kind === 'repeat' || (first?.kind === 'keep' && second?.kind === 'repeat'));
  if (!simple || first === undefined) return runStock(Tile, args);

  const outShape = x.shape.map((d, i) => d * (reps[i] ?? 1));
  return inKernelScope(args.backend, (s) => {
    const product =
      first.kind === 'repeat'
        ? s.matMul(ones(s, [first.size, 1]), s.reshape(x, [1, second?.size ?? 1]))
        : s.matMul(s.reshape(x, [first.size, 1]), ones(s, [1, second?.size ?? 1]));
    return s.reshape(product, outShape);
  });
};

const sum: KernelFunc = (args) => {
  const { x } = args.inputs;
  const { axis, keepDims } = args.attrs as unknown as SumAttrs;
  if (x === undefined) throw new Error('wasm-grads: Sum needs x');
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const rank = x.shape.length;
  const leading = axes.every((a, i) => a === i);
  // All axes, or only trailing ones, are what the stock kernel does without a transpose.
  if (x.dtype !== 'float32' || !leading || axes.length === 0 || axes.length === rank) return runStock(Sum, args);

  const n = util.sizeFromShape(x.shape.slice(0, axes.length));
  const rest = x.shape.slice(axes.length);
  const outShape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
  return inKernelScope(args.backend, (s) => {
    const columns = s.reshape(x, [1, n, 1, util.sizeFromShape(rest)]);
    const mean = s.run('AvgPool', { x: columns }, { filterSize: [n, 1], strides: [1, 1], pad: 'valid' });
    const count = s.run('Fill', {}, { shape: [], value: n, dtype: 'float32' });
    return s.reshape(s.run('Multiply', { a: mean, b: count }), outShape);
  });
};

export const tileConfig: KernelConfig = { kernelName: Tile, backendName: WASM, kernelFunc: tile };
export const sumConfig: KernelConfig = { kernelName: Sum, backendName: WASM, kernelFunc: sum };
