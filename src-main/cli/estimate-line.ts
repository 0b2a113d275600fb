/**
 * The one line `kensa train` prints before a run starts: the estimate's total and where it goes, as the wizard
 * shows it beside Start (fine-tuning's first epoch apart: it fills the prefix cache and costs more than the others).
 */
import type { TrainingEstimate } from '../shared/training-types.ts';

/** "8.4 s", "42 s", "3 min 10 s", "2 h 05 min" (the UI's English duration format, src-renderer/src/lib/format.ts). */
export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "Estimated 3 min 10 s (embeddings 12 s, head ~300 epochs 9.1 s, …; peak memory about 900 MB, on wasm)". */
export function estimateLine(e: TrainingEstimate, fineTuneEpochs: number): string {
  const parts: string[] = [];
  if (e.anomaly) {
    const a = e.anomaly;
    parts.push(`features of ${a.fitImages} good images ${durationText(a.featuresSeconds)}`);
    parts.push(`coreset ${durationText(a.coresetSeconds)}`);
    parts.push(`scoring ${a.scoredImages} images ${durationText(a.scoringSeconds)}${a.flips ? ' (with flips)' : ''}`);
  } else {
    if (e.embeddingSeconds > 0) parts.push(`embeddings ${durationText(e.embeddingSeconds)}`);
    if (e.transferSeconds > 0) parts.push(`head ~${e.expectedTransferEpochs} epochs ${durationText(e.transferSeconds)}`);
    if (e.fineTuneSeconds > 0)
      parts.push(
        `fine-tuning ${durationText(e.fineTuneSeconds)} for ${fineTuneEpochs} epochs (first about ${durationText(e.fineTuneFirstEpochSeconds)}, then ${durationText(e.fineTuneEpochSeconds)} each)`,
      );
    if (e.evaluationSeconds > 0) parts.push(`evaluation ${durationText(e.evaluationSeconds)}`);
  }
  const memory = `peak memory about ${Math.round(e.peakMemoryMB).toLocaleString('en')} MB`;
  return `Estimated ${durationText(e.totalSeconds)} (${[...parts, memory].join(', ')}; on ${e.backend.training}).`;
}
