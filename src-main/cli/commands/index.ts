import type { CliCommand } from '../command.ts';
import { doctorCommand } from './doctor.ts';
import { importCommand } from './import.ts';
import { labelsCommand } from './labels.ts';
import { statsCommand } from './stats.ts';
import { demoCommand } from './demo.ts';
import { heatmapsCommand } from './heatmaps.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { predictCommand } from './predict.ts';
import { cvCommand } from './cv.ts';
import { inspectCommand } from './inspect.ts';
import { sweepCommand } from './sweep.ts';

/** Every CLI command; each lives in its own file beside this one. */
export const commands: CliCommand[] = [
  doctorCommand,
  importCommand,
  labelsCommand,
  statsCommand,
  demoCommand,
  trainCommand,
  evalCommand,
  predictCommand,
  cvCommand,
  sweepCommand,
  inspectCommand,
  heatmapsCommand,
];
