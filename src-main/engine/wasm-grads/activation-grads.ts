/**
 * One-pass gradients for ReLU, ReLU6 and ClipByValue on wasm.
 *
 * tfjs-core builds these gradients from four to six elementwise ops
 * (LessEqual, Step, Cast, Multiply, or GreaterEqual, LogicalAnd, Select),
 * each a full pass over an activation-sized tensor, and wasm's comparison
 * and cast kernels are scalar loops with broadcasting. Profiled on SmoothGrad
 * (MobileNet v1 0.25 at 224, 25 copies per batch) they were about half of all
 * kernel time. Here the gradient is one kernel: dx = dy where x lies in the
 * op's pass-through window, else 0, one SIMD loop over the wasm heap
 * (window-grad-simd.ts; a JS loop for the tail and where SIMD is missing).
 *
 * The gradients are registered for every backend (tfjs keys gradients by op,
 * not backend) and use the fused kernel only where it is registered; on cpu
 * or tfjs-node they run tfjs-core's own formula, unchanged.
 */
import {
  ClipByValue,
  Relu,
  Relu6,
  cast,
  engine,
  getGradient,
  getKernel,
  greater,
  greaterEqual,
  lessEqual,
  logicalAnd,
  mul,
  registerGradient,
  util,
} from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WASM } from './kernel-scope.ts';
import { simdWindowGrad, type WasmMemory } from './window-grad-simd.ts';

export const WINDOW_GRAD = 'KensaWindowGrad';

/**
 * The pass-through window of an activation: x passes its gradient when lo < x ≤ hi (lo ≤ x when includeLo).
 * Matches tfjs-core: Relu step(x) is 0 at 0; Relu6 (x ≤ 6)·step(x); ClipByValue min ≤ x ≤ max.
 */
export interface Window {
  lo: number;
  hi: number;
  includeLo: boolean;
}

/** dx[i] = dy[i] where x[i] is in the window, else 0 (NaN in x gives 0, as no comparison holds). */
export function windowGradInto(dx: Float32Array, dy: ArrayLike<number>, x: ArrayLike<number>, w: Window): void {
  const { lo, hi } = w;
  const n = dx.length;
  if (w.includeLo) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      dx[i] = v >= lo && v <= hi ? dy[i]! : 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      dx[i] = v > lo && v <= hi ? dy[i]! : 0;
    }
  }
}

/** The backend's WebAssembly memory: imported by the threaded build, exported by the single-threaded one. */
function memoryOf(b: BackendWasm): WasmMemory | undefined {
  const m = b.wasm as unknown as { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
  return m.wasmMemory ?? m.asm?.memory;
}

const windowGradWasm: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, x } = inputs;
  if (dy === undefined || x === undefined) throw new Error('wasm-grads: KensaWindowGrad needs dy and x');
  const w = attrs as unknown as Window;
  const b = backend as unknown as BackendWasm;
  const out = b.makeOutput(x.shape, 'float32');
  const n = util.sizeFromShape(x.shape);
  const memory = memoryOf(b);
  const simd = memory ? simdWindowGrad(memory) : null;
  const head = simd ? n - (n % 4) : 0;
  if (simd && head > 0) {
    const at = (t: TensorInfo) => b.dataIdMap.get(t.dataId)!.memoryOffset;
    simd(at(out), at(dy), at(x), head, w.lo, w.hi, w.includeLo ? 1 : 0);
  }
  if (head < n) {
    // Views are taken after makeOutput: allocating may grow the heap and detach earlier ones.
    const dx = b.typedArrayFromHeap(out) as Float32Array;
    const dyv = b.typedArrayFromHeap(dy) as TypedArray;
    const xv = b.typedArrayFromHeap(x) as TypedArray;
    windowGradInto(dx.subarray(head), dyv.subarray(head), xv.subarray(head), w);
  }
  return out;
};

export const windowGradConfig: KernelConfig = { kernelName: WINDOW_GRAD, backendName: WASM, kernelFunc: windowGradWasm };

/**
 * dy where x lies in the window, else 0: the fused kernel where the active backend has it, tf ops elsewhere.
 * @param dy any shape; @param x the same shape
 */
export function windowGrad(dy: Tensor, x: Tensor, w: Window): Tensor {
  if (getKernel(WINDOW_GRAD, engine().backendName) !== undefined && x.dtype === 'float32') {
    const d = dy.dtype === 'float32' ? dy : cast(dy, 'float32');
    return engine().runKernel(WINDOW_GRAD, { dy: d, x }, w as unknown as NamedAttrMap) as Tensor;
  }
  const above = w.includeLo ? greaterEqual(x, w.lo) : greater(x, w.lo);
  return mul(dy, cast(logicalAnd(above, lessEqual(x, w.hi)), 'float32'));
}

/** Wraps tfjs-core's gradient of `kernelName` so the fused kernel runs where the active backend has it. */
function fusedGradient(kernelName: string, windowOf: (attrs: NamedAttrMap) => Window): GradConfig {
  const stock = getGradient(kernelName);
  if (stock === undefined) throw new Error(`wasm-grads: tfjs has no gradient for ${kernelName}`);
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const dyT = dy as Tensor;
      const x = saved[0]!;
      if (getKernel(WINDOW_GRAD, engine().backendName) === undefined || x.dtype !== 'float32') {
        return stock.gradFunc(dy, saved, attrs);
      }
      return {
        x: () => {
          const d = dyT.dtype === 'float32' ? dyT : cast(dyT, 'float32');
          return engine().runKernel(WINDOW_GRAD, { dy: d, x }, windowOf(attrs) as unknown as NamedAttrMap) as Tensor;
        },
      };
    },
  };
}

let installed = false;

/** Puts the one-pass gradients in place of tfjs-core's for Relu, Relu6 and ClipByValue. Idempotent. */
export function installActivationGradients(): void {
  if (installed) return;
  installed = true;
  registerGradient(fusedGradient(Relu, () => ({ lo: 0, hi: Infinity, includeLo: false })));
  registerGradient(fusedGradient(Relu6, () => ({ lo: 0, hi: 6, includeLo: false })));
  registerGradient(fusedGradient(ClipByValue, (a) => ({ lo: a.clipValueMin as number, hi: a.clipValueMax as number, includeLo: true })));
}
