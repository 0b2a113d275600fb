/**
 * Gradient kernels that let MobileNet fine-tuning run on tfjs's wasm backend
 * (XNNPACK, SIMD) instead of falling back to the pure-JS cpu backend.
 *
 * tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput.
 * Everything else a fine-tuning step uses (BN in inference mode and its
 * gradient, the ReLU6 gradient via Step/Select, GAP, Adam) is there, but five
 * of those kernels were slow enough to dominate a step and are replaced for
 * the shapes training produces, falling back to the originals otherwise:
 * Conv2DBackpropInput (a scalar loop, ~9x the forward conv), FusedBatchNorm
 * (a scalar loop, run after every frozen conv), Tile and Sum (the BN
 * gradient's broadcast and reduction) and Identity (copies every tensor the
 * engine saves for the backward pass).
 *
 * The ReLU, ReLU6 and ClipByValue gradients (four to six elementwise passes
 * each in tfjs-core) become one pass (activation-grads.ts).
 *
 * Approach: each kernel is a kernelFunc that calls the wasm backend's own
 * kernelFuncs on TensorInfos (see kernel-scope.ts for why not tf ops), and
 * rewrites every gradient as a stride-1 forward convolution or a GEMM, which
 * are the operations XNNPACK makes fast; the only JS loop is the
 * activation gradients' single pass over the heap.
 */
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, registerKernel } from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { installActivationGradients, windowGradConfig } from './activation-grads.ts';
import { fusedBatchNormConfig } from './batch-norm.ts';
import { sumConfig, tileConfig } from './broadcast-kernels.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop.ts';
import { WASM } from './kernel-scope.ts';
import { MOBILENET_TRAINING_KERNELS } from './required-kernels.ts';
import { identityConfig } from './shared-identity.ts';
import { replaceWasmKernel } from './stock-kernels.ts';

export { MOBILENET_TRAINING_KERNELS } from './required-kernels.ts';

/** Kernels wasm does not have at all. */
const MISSING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  windowGradConfig,
];

/** Kernels wasm has, replaced by faster ones that fall back to them. */
const REPLACED_KERNELS: readonly KernelConfig[] = [conv2DBackpropInputConfig, tileConfig, sumConfig, identityConfig, fusedBatchNormConfig];

/**
 * Registers the wasm gradient kernels. Idempotent: returns the names it
 * registered on this call (empty once done). A kernel that wasm gained
 * natively (a later tfjs) is left alone.
 */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const config of MISSING_KERNELS) {
    if (getKernel(config.kernelName, WASM) !== undefined) continue;
    registerKernel(config);
    registered.push(config.kernelName);
  }
  for (const config of REPLACED_KERNELS) {
    if (replaceWasmKernel(config)) registered.push(config.kernelName);
  }
  installActivationGradients();
  return registered;
}

/** Kernels a MobileNet fine-tuning step needs that wasm still lacks (for the backend report). */
export function missingWasmGradientKernels(): string[] {
  return MOBILENET_TRAINING_KERNELS.filter((name) => getKernel(name, WASM) === undefined);
}
