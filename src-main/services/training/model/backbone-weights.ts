/** Where a backbone's ImageNet weights are: the user's folders first, then resources/models and ../shared/models. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelWeightsError } from '../../../shared/errors.ts';
import { BACKBONES, type BackboneWeightsReport } from '../../../shared/training-types.ts';
import { parseBackbone } from './backbone-table.ts';

/** Finds the ImageNet weights folder for a backbone (the first search folder that has it). */
export function findBackboneWeights(backbone: string, searchDirs: string[]): string {
  const spec = parseBackbone(backbone);
  for (const d of searchDirs) for (const f of spec.weightFolders) if (existsSync(join(d, f, 'model.json'))) return join(d, f);
  throw new ModelWeightsError(
    `ImageNet weights for ${backbone} were not found (looked for ${spec.weightFolders[0]} in ${searchDirs.join(', ')}). ` +
      'Choose a folder with the TensorFlow.js layers-format MobileNet weights, or another backbone.',
    { backbone, searched: searchDirs },
  );
}

/** Every backbone's weights folder as Start would find it (findBackboneWeights' rule), or null where none is found. */
export function locateBackboneWeights(searchDirs: string[]): BackboneWeightsReport {
  return {
    searched: searchDirs,
    backbones: BACKBONES.map((backbone) => {
      const spec = parseBackbone(backbone);
      let dir: string | null = null;
      for (const d of searchDirs)
        for (const f of spec.weightFolders) if (dir === null && existsSync(join(d, f, 'model.json'))) dir = join(d, f);
      return { backbone, dir, folderName: spec.weightFolders[0]! };
    }),
  };
}
