import { realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { NotFoundError } from '../shared/errors.ts';
import { projectMediaKey, type MediaRequest } from '../shared/media-url.ts';
import type { Project } from './projects/project.ts';
import type { MediaFile, Services } from './services.ts';

const keys = new WeakMap<Project, string>();

/** The media key of an open project (see shared/media-url.ts), computed once per open. */
export function mediaKeyOf(project: Project): string {
  let key = keys.get(project);
  if (key === undefined) {
    key = projectMediaKey({ dir: project.dir, createdAt: project.meta('created_at') ?? '' });
    keys.set(project, key);
  }
  return key;
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/**
 * What both transports serve for a media URL: only media of the project that is open now (the URL's key must be its
 * key), and only files whose real path (links followed) lies inside that project's `images/` or `cache/` folder. A link in
 * the store that points elsewhere on the disk is refused, never followed. The returned path is the real one.
 */
export async function resolveProjectMedia(s: Services, req: MediaRequest): Promise<MediaFile> {
  const project = s.projects.project;
  if (!project || req.projectKey !== mediaKeyOf(project))
    throw new NotFoundError('This picture belongs to a project that is not open now.', { projectKey: req.projectKey });
  const file = await s.resolveMedia(req.kind, req.id, req.params);
  const real = realOrNull(file.path);
  if (real === null) throw new NotFoundError(`The picture file is missing: ${file.path}`, { path: file.path });
  // The roots are the real project folder's own subfolders: a store folder that is itself a link out counts as out.
  const dir = realOrNull(project.dir);
  const roots = dir === null ? [] : [join(dir, 'images'), join(dir, 'cache')];
  if (!roots.some((root) => real.startsWith(root + sep)))
    throw new NotFoundError(`${file.path} leads outside the project's image store; Kensa does not follow links out of it.`, {
      path: file.path,
    });
  return { path: real, mime: file.mime };
}
