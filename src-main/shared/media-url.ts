/**
 * The one media URL scheme, shared by the renderer (which builds the URLs) and both transports (which parse them):
 * `<project key>/<kind>/<id>[?params]`. The project key names the open project, so a thumbnail of image 7 in one
 * project never has the URL of image 7 in another, and a browser or Electron cache cannot hand one for the other.
 * Browser mode puts it under `/media/<media token>/`, Electron under `kensa-media://project/`.
 */
import type { MediaKind } from './api/index.ts';

/** The key of "no project open": no media route answers it. */
export const NO_PROJECT_KEY = 'none';

const MEDIA_KINDS: readonly MediaKind[] = ['thumb', 'image', 'heatmap', 'file', 'inspect-heatmap'];

/**
 * A project's media key: a 53-bit hash (cyrb53) of its folder and creation time, in base 36. Not a secret (media
 * access is authorised separately); it only has to differ between projects, including a new project created in the
 * folder of a deleted one.
 */
export function projectMediaKey(project: { dir: string; createdAt: string }): string {
  const s = `${project.dir}\n${project.createdAt}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36).padStart(11, '0');
}

/** `<key>/<kind>/<id>[?params]`, relative (each transport puts its own prefix in front). */
export function mediaPath(projectKey: string, kind: MediaKind, id: string, params?: Record<string, string | number>): string {
  const q = new URLSearchParams(Object.entries(params ?? {}).map(([k, v]): [string, string] => [k, String(v)]));
  return `${encodeURIComponent(projectKey)}/${kind}/${encodeURIComponent(id)}${q.size ? `?${q}` : ''}`;
}

export interface MediaRequest {
  projectKey: string;
  kind: MediaKind;
  id: string;
  params: Record<string, string>;
}

/** Parses the part after the transport's prefix (`<key>/<kind>/<id>`, no leading slash); null when malformed. */
export function parseMediaPath(path: string, search: URLSearchParams): MediaRequest | null {
  const m = /^([^/]+)\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return null;
  const kind = m[2] as MediaKind;
  if (!MEDIA_KINDS.includes(kind)) return null;
  try {
    return { projectKey: decodeURIComponent(m[1]!), kind, id: decodeURIComponent(m[3]!), params: Object.fromEntries(search) };
  } catch {
    return null;
  }
}
