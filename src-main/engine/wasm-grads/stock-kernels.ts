/**
 * Bookkeeping for wasm kernels this module replaces with faster versions that
 * handle the common cases and hand everything else back to the original.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { WASM } from './kernel-scope.ts';

const stockKernels = new Map<string, KernelConfig>();
/** Backends on which a stock kernel's setupFunc has run, per kernel name. */
const stockSetUp = new Map<string, WeakSet<object>>();

/**
 * Registers `config` in place of the wasm kernel of the same name, keeping the
 * original for runStock(). Returns false when `config` is already in place.
 */
export function replaceWasmKernel(config: KernelConfig): boolean {
  const current = getKernel(config.kernelName, WASM) as KernelConfig | undefined;
  if (current?.kernelFunc === config.kernelFunc) return false;
  if (current !== undefined) {
    stockKernels.set(config.kernelName, current);
    unregisterKernel(config.kernelName, WASM);
  }
  registerKernel(config);
  return true;
}

/** Runs the wasm kernel that `replaceWasmKernel` displaced. */
export function runStock(kernelName: string, args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] {
  const stock = stockKernels.get(kernelName);
  if (stock === undefined) throw new Error(`wasm-grads: no stock wasm kernel '${kernelName}' to fall back to`);
  // When it was unregistered before the backend started, the engine never
  // ran its setupFunc (which binds its C++ entry point): run it once here.
  if (stock.setupFunc !== undefined) {
    let done = stockSetUp.get(kernelName);
    if (done === undefined) stockSetUp.set(kernelName, (done = new WeakSet()));
    if (!done.has(args.backend)) {
      stock.setupFunc(args.backend);
      done.add(args.backend);
    }
  }
  return stock.kernelFunc(args);
}
