import type { MediaKind } from '../shared/api/index.ts';
import { NotFoundError } from '../shared/errors.ts';

/** A file the UI may display, found by a domain module from its id (never a raw path from the client). */
export interface MediaFile {
  path: string;
  mime: string;
}
export type MediaResolver = (id: string, params: Record<string, string>) => Promise<MediaFile> | MediaFile;

/**
 * Which domain serves which media kind (thumbnails and images: catalog; heatmaps: heatmaps; inspected files: Inspect).
 * Each domain service registers its kinds when the composition root builds it; `services/media.ts` checks the
 * project key and the real path before a transport serves what a resolver returns.
 */
export class MediaRegistry {
  private readonly resolvers = new Map<MediaKind, MediaResolver>();

  register(kind: MediaKind, resolver: MediaResolver): void {
    this.resolvers.set(kind, resolver);
  }

  async resolve(kind: string, id: string, params: Record<string, string> = {}): Promise<MediaFile> {
    const r = this.resolvers.get(kind as MediaKind);
    if (!r) throw new NotFoundError(`No media of kind ${kind}`);
    return r(id, params);
  }
}
