import type { HeatmapsApi } from '../../shared/api/heatmaps.ts';
import { ValidationError } from '../../shared/errors.ts';
import * as runs from '../db/repos/runs.ts';
import { heatmapLayers } from '../heatmaps/layers.ts';
import type { Services } from '../services.ts';

function runIdArg(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError(`Not a run id: ${String(v)}`);
  return n;
}

export function heatmapsHandlers(s: Services): HeatmapsApi {
  const h = s.heatmaps;
  return {
    async listHeatmapGallery(query) {
      if (!query) throw new ValidationError('A gallery query needs a run.');
      return h.gallery({ ...query, runId: runIdArg(query.runId) });
    },
    async computeHeatmaps(req) {
      if (!req) throw new ValidationError('A heatmap request needs a run and methods.');
      return h.start({ ...req, runId: runIdArg(req.runId) });
    },
    async getHeatmapScores(runId, opts) {
      return h.scores(runIdArg(runId), opts ?? {});
    },
    exportHeatmapPng(mediaId, file, opts) {
      return h.exportPng(String(mediaId ?? ''), String(file ?? ''), opts ?? {});
    },
    exportContactSheet(query, file, opts) {
      if (!query) throw new ValidationError('A contact sheet needs a gallery query.');
      return h.exportContactSheet({ ...query, runId: runIdArg(query.runId) }, String(file ?? ''), opts ?? {});
    },
    async listHeatmapLayers(runId) {
      const r = runs.getRunDetail(s.projects.require().db, runIdArg(runId));
      return heatmapLayers(r.backbone, r.inputSize);
    },
    async clearHeatmapCache(runId) {
      h.clear(runIdArg(runId));
    },
  };
}
