import { common as enCommon } from './en/common.ts';
import { errors as enErrors } from './en/errors.ts';
import { heatmaps as enHeatmaps } from './en/heatmaps.ts';
import { inspect as enInspect } from './en/inspect.ts';
import { library as enLibrary } from './en/library.ts';
import { runs as enRuns } from './en/runs.ts';
import { train as enTrain } from './en/train.ts';
import { common as jaCommon } from './ja/common.ts';
import { errors as jaErrors } from './ja/errors.ts';
import { heatmaps as jaHeatmaps } from './ja/heatmaps.ts';
import { inspect as jaInspect } from './ja/inspect.ts';
import { library as jaLibrary } from './ja/library.ts';
import { runs as jaRuns } from './ja/runs.ts';
import { train as jaTrain } from './ja/train.ts';

/** Message catalogs, one file per screen and language; ja is typed against en so no key is missing. */
export const en = { ...enCommon, ...enErrors, ...enLibrary, ...enTrain, ...enRuns, ...enHeatmaps, ...enInspect };
export type MessageKey = keyof typeof en;
export const ja: Record<MessageKey, string> = {
  ...jaCommon,
  ...jaErrors,
  ...jaLibrary,
  ...jaTrain,
  ...jaRuns,
  ...jaHeatmaps,
  ...jaInspect,
};
