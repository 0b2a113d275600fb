import { NO_PROJECT_KEY } from '../../../src-main/shared/media-url.ts';

/**
 * What every media URL depends on: the open project's key and, in browser mode, the per-launch media token. It is
 * reactive state, so each `<img src={api.mediaUrl(…)}>` follows a project switch by itself (lib/api.ts keeps it).
 */
export const mediaScope = $state({ projectKey: NO_PROJECT_KEY, token: '' });
