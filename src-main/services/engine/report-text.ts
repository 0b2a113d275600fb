import type { BackendReport } from '../../shared/types.ts';

/** One line per backend for the CLI and logs (TF-free: the report itself comes from the probe's child process). */
export function formatBackendReport(r: BackendReport): string {
  const lines = [`Training backend: ${r.training}`, `Inference backend: ${r.inference}`];
  for (const c of r.candidates) lines.push(`  ${c.available ? '✓' : '✗'} ${c.name}${c.version ? ` ${c.version}` : ''}: ${c.reason}`);
  return lines.join('\n');
}
