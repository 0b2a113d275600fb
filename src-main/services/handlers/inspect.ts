/** Inspect's operations of the contract, mapped onto the InspectService (services/inspect/). */
import type { InspectApi } from '../../shared/api/inspect.ts';
import type { Services } from '../services.ts';

export function inspectHandlers(s: Services): InspectApi {
  const inspect = s.inspect;
  return {
    async startInspection(request) {
      return inspect.start(request);
    },
    async getInspection(id) {
      return inspect.get(id);
    },
    async listInspections() {
      return inspect.list();
    },
    async setInspectionThreshold(id, threshold) {
      return inspect.setThreshold(id, threshold);
    },
    async inspectionCsv(id) {
      return inspect.csv(id);
    },
    async exportInspectionCsv(id, file, opts) {
      return inspect.exportCsv(id, file, opts);
    },
    async addInspectedToLibrary(id, indices, defectTypeId) {
      return inspect.addToLibrary(id, indices, defectTypeId);
    },
  };
}
