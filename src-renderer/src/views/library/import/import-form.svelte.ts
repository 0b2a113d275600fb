/**
 * What the import dialog's form holds while the user fills it in: sources, how labels and regions are found,
 * TIFF pages and core type, and the class-folder preview with its mapping. The request is built by
 * import-request.ts; the dialog starts the task and shows its progress and report.
 */
import type { CoreType, FolderPreview, ImportPreview, ImportRequest } from '../../../../../src-main/shared/library-types.ts';
import { api } from '../../../lib/api.ts';
import { app } from '../../../state/app.svelte.ts';
import {
  appendPaths,
  importRequest,
  initialMapping,
  mergeFolderPreviews,
  parsePaths,
  regionSource,
  type LabelsFrom,
  type RegionFormat,
} from './import-request.ts';

export class ImportForm {
  pathsText = $state('');
  labelsFrom = $state<LabelsFrom>('none');
  csvPath = $state('');
  tiffPages = $state<'first' | 'all'>('first');
  coreType = $state<CoreType>('unknown');
  regionFormat = $state<RegionFormat>('none');
  regionPath = $state('');
  /** Class folders found by the last preview, and the label chosen for each (a <select> value). */
  folders = $state.raw<FolderPreview[]>([]);
  looseFiles = $state(0);
  mapping = $state<Record<string, string>>({});
  previewing = $state(false);
  /** The sources the last preview was for (one per line). */
  previewedFor = $state('');

  readonly paths = $derived(parsePaths(this.pathsText));
  readonly regions = $derived(regionSource(this.regionFormat, this.regionPath));
  /** Folder labels are mapped from a preview: one of the current sources, not of what was listed before. */
  readonly needsPreview = $derived(this.labelsFrom === 'folders' && this.previewedFor !== this.paths.join('\n'));
  /** Sources given, and a CSV when labels come from one. */
  readonly complete = $derived(this.paths.length > 0 && (this.labelsFrom !== 'csv' || this.csvPath.trim() !== ''));

  addPaths(list: string[]): void {
    const text = appendPaths(this.paths, list);
    if (text !== null) this.pathsText = text;
  }

  /** Lists the class folders under every source (one at a time; a source that fails is reported and skipped). */
  async preview(): Promise<void> {
    this.previewing = true;
    const found: ImportPreview[] = [];
    for (const p of this.paths) {
      const r = await app.guard(() => api.previewImportFolders(p));
      if (r) found.push(r);
    }
    const { folders, looseFiles } = mergeFolderPreviews(found);
    this.folders = folders;
    this.looseFiles = looseFiles;
    this.mapping = initialMapping(folders, this.mapping);
    this.previewedFor = this.paths.join('\n');
    this.previewing = false;
  }

  request(): ImportRequest {
    return importRequest({
      paths: this.paths,
      labelsFrom: this.labelsFrom,
      mapping: this.mapping,
      csvPath: this.csvPath,
      regions: this.regions,
      tiffPages: this.tiffPages,
      coreType: this.coreType,
    });
  }
}
