import { t } from '../../i18n/i18n.svelte.ts';
import type { AugmentationMode } from '../../../../src-main/shared/training-types.ts';

/** The augmentation setting as the wizard's summary words it (also the HTML report and the runs comparison). */
export function augLabel(mode: AugmentationMode): string {
  return mode === 'none' ? t('train.summary.augNone') : mode === 'fixed' ? t('train.summary.augFixed') : t('train.summary.augRandom');
}
