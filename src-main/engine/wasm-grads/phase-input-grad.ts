/**
 * Input gradient of a strided convolution by output phase (the "sub-pixel" decomposition).
 *
 * With stride s, input row u = s·k + r − P only receives the filter taps p ≡ r (mod s). Correlating a
 * zero-interleaved dy with the whole flipped filter spends (s²−1)/s² of its multiply-adds on zeros. Here each phase
 * gets its own flipped sub-filter, and all phases share ONE stride-1 convolution over dy whose output channels are
 * [phase row, phase col, channel] (sub-filters zero-padded to a common size and offset); a depth-to-space transpose
 * then interleaves them. MobileNet's first layer (3×3, stride 2, 3 input channels) drops from 36 to 16 taps per
 * position, and XNNPACK's GEMM gets 12 output channels instead of 3: 43 → 15 ms per 25 × 224 × 224 batch, a
 * seventh of batched SmoothGrad's time on wasm. Depthwise convs are left on the interleaved path: memory-bound,
 * they gained nothing from fewer multiply-adds and lost to the extra transpose (8.4 vs 14 ms measured).
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { cropNegative } from './conv-geometry.ts';
import type { KernelScope } from './kernel-scope.ts';

/** How one spatial axis splits into phases. */
export interface AxisPhases {
  /** Taps of the merged sub-filter along this axis. */
  taps: number;
  /** Per output residue ρ = 0..s−1, in that order: its first filter tap, its tap count and its offset in the merged filter. */
  phases: { tap: number; count: number; offset: number }[];
  /** Signed [before, after] padding of dy; negative = crop. */
  pad: [number, number];
  /** Outputs per phase, ceil(inSize / s); rows past inSize are cropped after interleaving. */
  perPhase: number;
}

/**
 * Phase geometry of one axis of a conv with input length `inSize`, filter `f`, stride `s`, leading pad `padBefore`
 * and `outSize` outputs; null when a phase has no taps (f < s: its gradient is all zeros, left to the caller).
 */
export function axisPhases(inSize: number, f: number, s: number, padBefore: number, outSize: number): AxisPhases | null {
  const raw: { tap: number; count: number; before: number; residue: number }[] = [];
  for (let r = 0; r < s; r++) {
    const count = Math.ceil((f - r) / s);
    if (count <= 0) return null;
    // The first k whose input row s·k + r − P is inside the image; that row's residue mod s names the phase.
    const kMin = Math.ceil((padBefore - r) / s);
    raw.push({ tap: r, count, before: count - 1 - kMin, residue: s * kMin + r - padBefore });
  }
  const before = Math.max(...raw.map((p) => p.before));
  const phases = raw.sort((a, b) => a.residue - b.residue).map((p) => ({ tap: p.tap, count: p.count, offset: before - p.before }));
  const taps = Math.max(...phases.map((p) => p.count + p.offset));
  const perPhase = Math.ceil(inSize / s);
  return { taps, phases, pad: [before, perPhase - outSize - before + taps - 1], perPhase };
}

/**
 * The merged, flipped sub-filters: [fh, fw, ci, co] → [th, tw, co, sh·sw·ci], output channels ordered
 * (phase row, phase col, input channel).
 */
export function mergedPhaseFilter(
  w: Float32Array,
  shape: [number, number, number, number],
  ph: AxisPhases,
  pw: AxisPhases,
): { values: Float32Array; shape: [number, number, number, number] } {
  const [, fw, ci, co] = shape;
  const sh = ph.phases.length;
  const sw = pw.phases.length;
  const outCh = sh * sw * ci;
  const out = new Float32Array(ph.taps * pw.taps * co * outCh);
  for (let rh = 0; rh < sh; rh++) {
    const P = ph.phases[rh]!;
    for (let rw = 0; rw < sw; rw++) {
      const Q = pw.phases[rw]!;
      for (let qh = 0; qh < P.count; qh++) {
        const kh = P.tap + sh * (P.count - 1 - qh);
        for (let qw = 0; qw < Q.count; qw++) {
          const kw = Q.tap + sw * (Q.count - 1 - qw);
          const dst = ((P.offset + qh) * pw.taps + (Q.offset + qw)) * co * outCh + (rh * sw + rw) * ci;
          const src = (kh * fw + kw) * ci * co;
          for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[dst + o * outCh + i] = w[src + i * co + o]!;
        }
      }
    }
  }
  return { values: out, shape: [ph.taps, pw.taps, co, outCh] };
}

/**
 * dx [b, h, w, ci] of a strided conv from dy [b, oh, ow, co], or null when some phase has no taps.
 * @param filter [fh, fw, ci, co]
 */
export function phaseInputGrad(
  s: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  g: {
    b: number;
    h: number;
    w: number;
    c: number;
    fh: number;
    fw: number;
    sh: number;
    sw: number;
    top: number;
    left: number;
    oh: number;
    ow: number;
  },
): TensorInfo | null {
  const ph = axisPhases(g.h, g.fh, g.sh, g.top, g.oh);
  const pw = axisPhases(g.w, g.fw, g.sw, g.left, g.ow);
  if (!ph || !pw) return null;
  const merged = mergedPhaseFilter(s.values(filter), filter.shape as [number, number, number, number], ph, pw);
  const { x: dyc, pad } = cropNegative(s, dy, [ph.pad, pw.pad]);
  const K = ph.perPhase;
  const J = pw.perPhase;
  const y = s.conv2d(dyc, s.fromValues(merged.shape, merged.values), pad, [1, 1]); // [b, K, J, sh·sw·ci]
  // Depth to space: [b·K, J, sh, sw·ci] → [b·K, sh, J, sw·ci] is [b, K·sh, J·sw, ci] in memory.
  const t = s.transpose(s.reshape(y, [g.b * K, J, g.sh, g.sw * g.c]), [0, 2, 1, 3]);
  const interleaved = s.reshape(t, [g.b, K * g.sh, J * g.sw, g.c]);
  if (K * g.sh === g.h && J * g.sw === g.w) return interleaved;
  return s.slice(interleaved, [0, 0, 0, 0], [g.b, g.h, g.w, g.c]);
}
