/**
 * The anomaly threshold and the normalised score. Plain numbers, no TensorFlow.
 *
 * Raw score: the image's worst patch distance to the bank (unbounded, in feature units). The threshold is set on
 * held-out images, never on the training images (their patches are in the bank, so they score near 0):
 * - good images only: the 99th percentile of their raw scores when there are at least 100 of them, else their
 *   maximum (so at most ~1 % of good parts, or none of the held-out ones, would be flagged). Never the minimum;
 * - with defect images too: chosen for the user's aim (miss no defect, balanced, fewest false alarms) by the
 *   classifier's operating-point chooser (shared/operating-point.ts), so both kinds of run decide the same way.
 * The normalised score n = 1 - 2^(-raw / threshold) is monotone, 0 at raw 0, exactly 0.5 at the threshold and
 * below 1, so it reads like the classifier's defect score: flagged when n >= 0.5, and the report's slider moves
 * the cut on n as it does on P(defect).
 */
import { chooseThreshold, type OperatingAim, type OperatingPointChoice } from '../../shared/operating-point.ts';
import type { AnomalyThreshold, AnomalyThresholdBasis } from '../../services/engine/job-types.ts';

/** Good images needed before a percentile is trusted over the maximum. */
export const PERCENTILE_MIN_IMAGES = 100;
export const GOOD_PERCENTILE = 0.99;

// The threshold's shape is part of the anomaly-fit job's result (TF-free, main side).
export type { AnomalyThreshold, AnomalyThresholdBasis };

/** Linear-interpolated quantile of `values` (q in [0, 1]). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = values.slice().sort((a, b) => a - b);
  const pos = Math.min(1, Math.max(0, q)) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** n = 1 - 2^(-raw / threshold): 0.5 at the threshold. */
export function normaliseScore(raw: number, threshold: number): number {
  if (!(threshold > 0)) return raw > 0 ? 1 : 0;
  return 1 - Math.pow(2, -Math.max(0, raw) / threshold);
}

/** Inverse of {@link normaliseScore}: the raw score at normalised score n (n in [0, 1)). */
export function rawScoreAt(n: number, threshold: number): number {
  return -threshold * Math.log2(1 - Math.min(n, 1 - 1e-12));
}

/**
 * A core type's scale: what its held-out good images score (the same rule as the good-only threshold: the 99th
 * percentile from 100 images, else the maximum; 1 without any). Dividing a type's distances by it puts every type's
 * good images on one scale, so one threshold means the same false-alarm rate for each.
 */
export function typeScale(goodRaw: readonly number[]): number {
  if (!goodRaw.length) return 1;
  const s = goodRaw.length >= PERCENTILE_MIN_IMAGES ? quantile(goodRaw, GOOD_PERCENTILE) : Math.max(...goodRaw);
  return s > 0 ? s : 1;
}

/**
 * Chooses the raw threshold from held-out images.
 * @param raw raw scores of the held-out (validation) images
 * @param positive true for defect images
 * @param trainRaw raw scores of training images, used only when there is no held-out good image at all
 */
export function chooseAnomalyThreshold(
  raw: readonly number[],
  positive: readonly boolean[],
  aim: OperatingAim,
  trainRaw: readonly number[] = [],
): AnomalyThreshold {
  const good = raw.filter((_, i) => !positive[i]);
  const defects = raw.length - good.length;
  if (good.length === 0) {
    // No held-out good part: the training images' own maximum is the only reference (they score low, so this is
    // strict); stated as a fallback.
    const max = trainRaw.length ? Math.max(...trainRaw) : 1;
    return {
      raw: max > 0 ? max : 1,
      basis: 'train-fallback',
      description: 'maximum training score (no held-out good images)',
      choice: null,
    };
  }
  const base = good.length >= PERCENTILE_MIN_IMAGES ? quantile(good, GOOD_PERCENTILE) : Math.max(...good);
  const basis: AnomalyThresholdBasis = good.length >= PERCENTILE_MIN_IMAGES ? 'good-percentile' : 'good-max';
  const baseRaw = base > 0 ? base : 1;
  if (defects === 0 || aim.kind === 'manual') {
    return {
      raw: baseRaw,
      basis,
      description:
        basis === 'good-percentile'
          ? `99th percentile of ${good.length} held-out good images`
          : `maximum of ${good.length} held-out good images`,
      choice: null,
    };
  }
  // With defects: the aim decides on the normalised scores (monotone in raw, so the order is the same), and the
  // chosen normalised cut is mapped back to a raw threshold so that it sits at 0.5 again.
  const norm = raw.map((r) => normaliseScore(r, baseRaw));
  const choice = chooseThreshold(norm, positive, aim);
  const rawThr = rawScoreAt(choice.threshold, baseRaw);
  // Stored on the normalised scale of the final threshold, where the cut is 0.5 (same counts: same order, same cut).
  const rechosen: OperatingPointChoice = { ...choice, threshold: 0.5 };
  return {
    raw: rawThr > 0 ? rawThr : baseRaw,
    basis: 'operating-point',
    description: `chosen on ${good.length} good and ${defects} defect validation images`,
    choice: rechosen,
  };
}
