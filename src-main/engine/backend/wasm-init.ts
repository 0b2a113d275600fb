/**
 * Starts the wasm backend for the probe and the engine, with Kensa's gradient kernels (../wasm-grads)
 * registered so that wasm can also train; the report lists any kernel still missing.
 */
import { missingWasmGradientKernels } from '../wasm-grads/index.ts';
import { initWasmBackend } from '../wasm-grads/setup-wasm.ts';

export async function initWasmForProbe(): Promise<{ simd: boolean; threads: number; missingGradients: string[] }> {
  const f = await initWasmBackend();
  return { simd: f.simd, threads: f.threads, missingGradients: missingWasmGradientKernels() };
}
