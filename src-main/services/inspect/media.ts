/**
 * Media of photos inspected by path: their thumbnail ('file') and heatmap ('inspect-heatmap'). Both take the id
 * "<inspection id>/<index>", never a raw path from the client, so only photos of an inspection kept in the open
 * project's store are shown or mapped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageFormat } from '../../shared/library-types.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { makeThumbnail, openImageBytes, sniffFormat } from '../library/imaging.ts';
import { heatmapMediaParams, type FileHeatmapRequest } from '../heatmaps/file-heatmap.ts';
import type { MediaFile, MediaResolver } from '../media-registry.ts';
import type { InspectStore } from './store.ts';

/** Thumbnail of a photo given by path (any format the catalog reads), cached in the project's cache folder. */
export async function fileThumb(cacheDir: string, path: string): Promise<MediaFile> {
  const st = statSync(path);
  const key = createHash('sha1').update(`${path}|${st.size}|${st.mtimeMs}`).digest('hex');
  const out = join(cacheDir, 'inspect', `${key}.jpg`);
  if (!existsSync(out)) {
    const buf = readFileSync(path);
    const fmt = sniffFormat(buf);
    if (!fmt || fmt === 'other-image') throw new NotFoundError(`${path} is not an image Kensa can show.`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, await makeThumbnail(openImageBytes(buf, fmt as ImageFormat)));
  }
  return { path: out, mime: 'image/jpeg' };
}

export interface InspectMediaDeps {
  store: InspectStore;
  /** The open project's cache folder (throws when none is open). */
  cacheDir: () => string;
  /** Heatmap PNG of a photo under a run's model (heatmaps/file-heatmap.ts). */
  fileHeatmap: (req: FileHeatmapRequest) => Promise<MediaFile>;
}

/** The resolvers of media kinds 'file' and 'inspect-heatmap'. */
export function inspectMediaResolvers(d: InspectMediaDeps): { file: MediaResolver; 'inspect-heatmap': MediaResolver } {
  return {
    file: (id) => {
      const [insId, idx] = id.split('/');
      const item = d.store.get(insId ?? '').items[Number(idx)];
      if (!item?.path) throw new NotFoundError(`No inspected file ${id}`);
      return fileThumb(d.cacheDir(), item.path);
    },
    // Mapped with the inspection's run and the item's predicted class.
    'inspect-heatmap': (id, params) => {
      const m = /^([\w-]+)\/(\d+)$/.exec(id);
      if (!m) throw new NotFoundError(`No inspected file ${id}`);
      const ins = d.store.get(m[1]!);
      const item = ins.items[Number(m[2])];
      if (!item?.path) throw new NotFoundError(`No inspected file ${id}`);
      return d.fileHeatmap({ runId: ins.runId, path: item.path, classIndex: item.predicted, ...heatmapMediaParams(params) });
    },
  };
}
