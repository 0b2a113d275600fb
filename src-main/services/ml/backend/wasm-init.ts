/**
 * Starts the wasm backend for the probe and the engine. The gradient kernels that let wasm train
 * live in ../wasm-grads (issue 5); until they are registered, training falls back to cpu.
 */
export async function initWasmForProbe(): Promise<{ simd: boolean; threads: number; missingGradients: string[] }> {
  const setup = await import('../wasm-grads/setup-wasm.ts');
  const grads = await import('../wasm-grads/index.ts');
  const f = await setup.initWasmBackend();
  return { simd: f.simd, threads: f.threads, missingGradients: grads.missingWasmGradientKernels() };
}
