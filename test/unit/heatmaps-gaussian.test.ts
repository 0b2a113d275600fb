import { describe, expect, it } from 'vitest';
import { fillGaussian } from '../../src-main/engine/heatmaps/gaussian.ts';

/** Φ(x), accurate to well below the KS tolerance (the usual 7-digit erf approximations are too coarse at 10⁶ draws). */
function normalCdf(x: number): number {
  // erf by its Taylor series up to z = 3, by its asymptotic expansion beyond.
  const z = Math.abs(x) / Math.SQRT2;
  let erf: number;
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    erf = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    const t = 1 / (z * z);
    erf = 1 - (Math.exp(-z * z) / (z * Math.sqrt(Math.PI))) * (1 - t / 2 + (3 * t * t) / 4 - (15 * t * t * t) / 8);
  }
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('SmoothGrad noise', () => {
  it('is standard normal: moments, tails and a Kolmogorov–Smirnov test over 10⁶ draws', () => {
    const n = 1_000_000;
    const a = new Float32Array(n);
    fillGaussian(a, 12345);
    let mean = 0;
    for (const v of a) mean += v;
    mean /= n;
    let variance = 0;
    let kurt = 0;
    let beyond3 = 0;
    for (const v of a) {
      const d = v - mean;
      variance += d * d;
      kurt += d ** 4;
      if (Math.abs(v) > 3) beyond3++;
    }
    variance /= n;
    kurt /= n * variance * variance;
    expect(Math.abs(mean)).toBeLessThan(0.005); // 5 standard errors
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
    expect(Math.abs(kurt - 3)).toBeLessThan(0.05);
    expect(beyond3 / n).toBeGreaterThan(0.0022); // 2·(1 − Φ(3)) = 0.0027
    expect(beyond3 / n).toBeLessThan(0.0032);
    const sorted = Float64Array.from(a).sort();
    let d = 0;
    for (let i = 0; i < n; i += 7) {
      const c = normalCdf(sorted[i]!);
      d = Math.max(d, Math.abs(c - i / n), Math.abs(c - (i + 1) / n));
    }
    expect(d).toBeLessThan(1.63 / Math.sqrt(n)); // KS critical value at α = 0.01
  });

  it('repeats for a seed, differs between seeds, scales by σ and adds to a base image', () => {
    const a = new Float32Array(50_000);
    const b = new Float32Array(50_000);
    const c = new Float32Array(50_000);
    fillGaussian(a, 7);
    fillGaussian(b, 7);
    fillGaussian(c, 8);
    expect(b).toEqual(a);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * c[i]!;
    expect(Math.abs(dot / a.length)).toBeLessThan(0.03); // neighbouring seeds are uncorrelated
    const base = Float32Array.from({ length: 50_000 }, (_, i) => (i % 5) - 2);
    const scaled = new Float32Array(50_000);
    fillGaussian(scaled, 7, 0.2, base);
    for (let i = 0; i < a.length; i += 997) expect(scaled[i]).toBeCloseTo(base[i]! + 0.2 * a[i]!, 5);
  });
});
