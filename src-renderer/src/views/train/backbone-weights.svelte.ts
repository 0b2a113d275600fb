/**
 * Which backbones have ImageNet weights where Start looks for them (the Settings weights folders, then the built-in
 * ones), so the wizard can mark those without weights before the user starts a run that would fail.
 */
import type { BackboneWeights, BackboneWeightsReport } from '../../../../src-main/shared/training-types.ts';
import { api } from '../../lib/api.ts';
import { app } from '../../state/app.svelte.ts';

class BackboneWeightsState {
  report = $state.raw<BackboneWeightsReport | null>(null);
  private wired = false;

  /** Loads the report (again after the weights folders change in Settings). */
  async load(): Promise<void> {
    if (!this.wired) {
      this.wired = true;
      api.subscribe('settings', () => void this.load());
    }
    const r = await app.guard(() => api.listBackboneWeights());
    if (r) this.report = r;
  }

  of(backbone: string): BackboneWeights | null {
    return this.report?.backbones.find((b) => b.backbone === backbone) ?? null;
  }

  /** True only when the report is in and says no folder holds this backbone's weights. */
  missing(backbone: string): boolean {
    const b = this.of(backbone);
    return b !== null && b.dir === null;
  }
}

export const backboneWeights = new BackboneWeightsState();
