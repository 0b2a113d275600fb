/**
 * Runs wasm kernels directly on TensorInfos from inside another kernel.
 *
 * Why not tf ops: a kernelFunc runs inside the engine's runKernel. Calling tf
 * ops there would create engine Tensors that are recorded on an active
 * gradient tape and tracked by the surrounding tidy scope, and the output's
 * data would have to outlive the Tensor that produced it (manual ref-count
 * surgery). Calling the backend's own registered kernelFuncs is what the
 * tfjs backends do internally (e.g. wasm BatchMatMul calls Reshape): no tape,
 * no scope, and each intermediate is released with backend.disposeData, which
 * honours the backend's ref counts (Reshape shares data and increments them).
 */
import { getKernel } from '@tensorflow/tfjs';
import type { DataType, KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export const WASM = 'wasm';

/** [[top, bottom], [left, right]] spatial padding of an NHWC tensor. */
export type SpatialPad = [[number, number], [number, number]];

/** Owns the intermediates of one kernel invocation. */
export class KernelScope {
  readonly backend: KernelBackend;
  readonly #scratch: TensorInfo[] = [];

  constructor(backend: KernelBackend) {
    this.backend = backend;
  }

  /** Runs another wasm kernel; its output is freed by dispose() unless kept. */
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, WASM);
    if (kernel == null) {
      throw new Error(`wasm-grads: kernel '${kernelName}' is not registered for wasm`);
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) {
      throw new Error(`wasm-grads: kernel '${kernelName}' returned several outputs`);
    }
    this.#scratch.push(out);
    return out;
  }

  /** Moves `t` out of the scope so it survives dispose() (the kernel's result). */
  keep(t: TensorInfo): TensorInfo {
    const i = this.#scratch.lastIndexOf(t);
    if (i < 0) {
      // Returning an input (or a foreign TensorInfo) would hand the engine a
      // data id it does not own a reference to.
      throw new Error('wasm-grads: only tensors produced in this scope can be kept');
    }
    this.#scratch.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.#scratch) this.backend.disposeData(t.dataId);
    this.#scratch.length = 0;
  }

  /** A float32 tensor of these values, freed by dispose() unless kept. */
  fromValues(shape: number[], values: Float32Array): TensorInfo {
    const out = (this.backend as unknown as WasmOutputs).makeOutput(shape, 'float32', undefined, values);
    this.#scratch.push(out);
    return out;
  }

  /** The values of a small float32 tensor (a filter), copied out of the heap. */
  values(t: TensorInfo): Float32Array {
    return Float32Array.from(this.backend.readSync(t.dataId) as Float32Array);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * a [m, k] x b [k, n] -> [m, n]. Only the untransposed, batch-1 form reaches
   * XNNPACK's fully-connected operator in tfjs-backend-wasm 4.22; any
   * transpose flag falls back to a scalar loop (~14x slower), so callers
   * transpose explicitly instead.
   */
  matMul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** NHWC conv with explicit spatial padding; filter [fh, fw, ci, co]. */
  conv2d(x: TensorInfo, filter: TensorInfo, pad: SpatialPad, dilations: [number, number]): TensorInfo {
    return this.run('Conv2D', { x, filter }, { strides: [1, 1], pad: explicit(pad), dataFormat: 'NHWC', dilations });
  }

  /** NHWC depthwise conv with explicit spatial padding; filter [fh, fw, c, m]. */
  depthwiseConv2d(x: TensorInfo, filter: TensorInfo, pad: SpatialPad, dilations: [number, number]): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, { strides: [1, 1], pad: explicit(pad), dataFormat: 'NHWC', dilations });
  }
}

/** The part of BackendWasm that allocates an output with given values. */
interface WasmOutputs {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset: undefined, values: Float32Array): TensorInfo;
}

function explicit(pad: SpatialPad): NamedAttrMap[string] {
  return [[0, 0], pad[0], pad[1], [0, 0]];
}

/**
 * Runs `body` with a fresh scope and returns its result as a kernel output;
 * every other intermediate is freed, also when `body` throws.
 */
export function inKernelScope(backend: object, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(asKernelBackend(backend));
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/** tfjs types a kernel's backend as `{}`; everything registered for 'wasm' gets a BackendWasm. */
export function asKernelBackend(backend: object): KernelBackend {
  if (!('disposeData' in backend) || typeof backend.disposeData !== 'function') {
    throw new Error('wasm-grads: kernel called without a tfjs backend');
  }
  return backend as KernelBackend;
}

/** Shape of a TensorInfo as the 4-tuple conv helpers expect; throws otherwise. */
export function shape4(t: { shape: number[] }, what: string): [number, number, number, number] {
  const [a, b, c, d] = t.shape;
  if (t.shape.length !== 4 || a === undefined || b === undefined || c === undefined || d === undefined) {
    throw new Error(`wasm-grads: ${what} must be rank 4, got shape [${t.shape.join(', ')}]`);
  }
  return [a, b, c, d];
}

export function assertFloat32(t: { dtype: DataType }, what: string): void {
  if (t.dtype !== 'float32') throw new Error(`wasm-grads: ${what} must be float32, got ${t.dtype}`);
}
