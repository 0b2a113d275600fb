/** What the wizard's guided-training choice needs to know (pure: unit-tested without a DOM). */
import type { LibraryStats } from '../../../../src-main/shared/library-types.ts';
import type { TrainConfig } from '../../../../src-main/shared/training-types.ts';
import { defectImagesWithRegions } from '../../../../src-main/shared/training-presets.ts';

export interface GuideFacts {
  /** Training-split defect images (of the classes that take part) with at least one region. */
  withRegions: number;
  /** Training-split defect images of those classes. */
  defectImages: number;
  /** Why guidance cannot run: no regions to use, or augmentation that moves photos away from their regions. */
  blocked: 'noRegions' | 'augmentation' | 'tiles' | null;
}

export function guideFacts(
  stats: LibraryStats | null,
  config: Pick<TrainConfig, 'augmentation'> & { resize?: TrainConfig['resize'] },
  excluded: readonly string[],
): GuideFacts {
  const defects = (stats?.perLabel ?? []).filter((l) => l.key !== 'ok' && !excluded.includes(l.key));
  const withRegions = defectImagesWithRegions(stats?.perLabel ?? [], excluded);
  const defectImages = defects.reduce((a, l) => a + l.train, 0);
  const a = config.augmentation;
  // The engine leaves guidance out with random rotations or crops (engine/train/run-state.ts): say so before the run.
  // Tiled runs refuse guidance (TilingUnsupportedError): tile labels come from the regions instead.
  const blocked =
    withRegions === 0 ? 'noRegions' : config.resize === 'tile' ? 'tiles' : a.rotationDeg > 0 || a.cropMinScale < 1 ? 'augmentation' : null;
  return { withRegions, defectImages, blocked };
}
