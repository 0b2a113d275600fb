import type { Services } from './services.ts';
import { createHandlers } from './handlers/index.ts';

export interface StartupOptions {
  /** Open this project instead of the last one. */
  projectDir?: string | undefined;
  /** With no project to reopen, create and open the demo project (what a newcomer sees). */
  demo: boolean;
}

/**
 * Opens the project the user expects on launch: the one given, else the last one, else the demo.
 * A last project that fails to open (moved, locked, newer) is reported, not fatal.
 */
export async function openInitialProject(s: Services, opts: StartupOptions): Promise<{ warning?: string }> {
  const api = createHandlers(s);
  const target = opts.projectDir ?? s.settings.get().lastProjectDir;
  if (target) {
    try {
      await api.openProject(target);
      return {};
    } catch (err) {
      if (opts.projectDir) throw err;
      const warning = `Could not reopen ${target}: ${(err as Error).message}`;
      if (opts.demo) await api.openDemoProject();
      return { warning };
    }
  }
  if (opts.demo) await api.openDemoProject();
  return {};
}
