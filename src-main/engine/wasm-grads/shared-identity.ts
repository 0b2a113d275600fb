/**
 * Identity for wasm that shares the input's data, as the cpu backend's does.
 *
 * The engine clones (runs Identity on) every tensor a gradient saves for the
 * backward pass; the stock wasm Identity copies it, which for a fine-tuning
 * step is dozens of full activation copies. tfjs never mutates tensor data
 * in place (Variable.assign swaps the data id), so sharing with a ref count
 * is safe. Strings keep the stock kernel.
 */
import { Identity } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { WASM, asKernelBackend } from './kernel-scope.ts';
import { runStock } from './stock-kernels.ts';

const identity: KernelFunc = (args) => {
  const { x } = args.inputs;
  if (x === undefined) throw new Error('wasm-grads: Identity needs x');
  if (x.dtype === 'string') return runStock(Identity, args);
  asKernelBackend(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const identityConfig: KernelConfig = { kernelName: Identity, backendName: WASM, kernelFunc: identity };
