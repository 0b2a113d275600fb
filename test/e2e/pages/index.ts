import type { Page } from '@playwright/test';
import type { RunningServer } from '../../helpers/server.ts';
import { FileBrowser } from './file-browser.ts';
import { HeatmapsPage } from './heatmaps.ts';
import { InspectPage } from './inspect.ts';
import { LibraryPage } from './library.ts';
import { OverwriteConfirm } from './overwrite.ts';
import { ProjectsPage } from './projects.ts';
import { RunsPage } from './runs.ts';
import { SettingsPage } from './settings.ts';
import { Shell } from './shell.ts';
import { TrainWizard } from './train.ts';

/**
 * Every screen of the app as a page object over one page and server, so a spec reads as what a user does:
 * `const app = kensa(page, server); await app.library.open(); await app.library.labelSelectionAs('dent')`.
 * `app.api` is the typed API (test/helpers/e2e-api.ts) for what a spec sets up or checks behind the UI.
 */
export function kensa(page: Page, server: RunningServer) {
  const shell = new Shell(page, server);
  return {
    shell,
    api: shell.api,
    projects: new ProjectsPage(shell),
    library: new LibraryPage(shell),
    train: new TrainWizard(shell),
    runs: new RunsPage(shell),
    heatmaps: new HeatmapsPage(shell),
    inspect: new InspectPage(shell),
    settings: new SettingsPage(shell),
    fileBrowser: new FileBrowser(shell),
    overwrite: new OverwriteConfirm(shell),
  };
}

export type Kensa = ReturnType<typeof kensa>;
