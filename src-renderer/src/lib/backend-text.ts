import type { BackendCandidate } from '../../../src-main/shared/types.ts';
import { t } from '../i18n/i18n.svelte.ts';

/** Why a backend is or is not used, in the UI language (the server's English `reason` is for the CLI and logs). */
export function backendReason(c: BackendCandidate): string {
  return t(`backend.reason.${c.code}`, c.params);
}
