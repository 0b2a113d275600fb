/**
 * Unit-test set-up shared by the tests that train through the services: a project imported from class folders (one
 * folder mapped onto the OK type, the others becoming defect types), and the grids the heatmap cache holds.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KensaApi } from '../../src-main/shared/api/index.ts';
import type { ImportReport } from '../../src-main/shared/library-types.ts';
import { listTypes } from '../../src-main/services/db/repos/defect-types.ts';
import { createHandlers } from '../../src-main/services/handlers/index.ts';
import { runImport } from '../../src-main/services/library/import.ts';
import { Services } from '../../src-main/services/services.ts';

export interface FolderProject {
  s: Services;
  api: KensaApi;
  report: ImportReport;
}

/** Services in `tmp`, a project at `tmp/project`, and `src`'s class folders imported (`okFolder` as OK). */
export async function folderProject(tmp: string, src: string, okFolder: string, name: string): Promise<FolderProject> {
  const s = new Services({
    configDir: join(tmp, 'config'),
    resourcesDir: join(tmp, 'resources'),
    host: { mode: 'cli', electronVersion: null },
  });
  const api = createHandlers(s);
  await api.createProject(join(tmp, 'project'), name);
  const project = s.projects.require();
  const ok = listTypes(project.db).find((t) => t.isOk)!;
  const report = await runImport(project, {
    paths: [src],
    labels: { from: 'folders', mapping: { [okFolder]: { defectTypeId: ok.id } }, createUnknown: true },
  });
  return { s, api, report };
}

/** Width and height of every cached heatmap grid under `dir` (cache file header: magic, width, height, classes). */
export function cachedGrids(dir: string): [number, number][] {
  const out: [number, number][] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const b = readFileSync(p);
        if (b.byteLength >= 16) out.push([b.readInt32LE(4), b.readInt32LE(8)]);
      }
    }
  };
  walk(dir);
  return out;
}
