import type { Locator, Page } from '@playwright/test';
import { e2eApi, switchLanguage, type E2eApi } from '../../helpers/e2e-api.ts';
import type { RunningServer } from '../../helpers/server.ts';

/** The screens the main navigation leads to, by their English link names. */
export type Area = 'Projects' | 'Library' | 'Train' | 'Runs' | 'Heatmaps' | 'Inspect' | 'Settings';

/**
 * The frame around every screen: main navigation, the project switcher, the status bar, error alerts and the UI
 * language. Page objects for the screens take it (and through it the page, the server and the typed API).
 */
export class Shell {
  readonly page: Page;
  readonly server: RunningServer;
  readonly api: E2eApi;
  readonly nav: Locator;
  readonly projectName: Locator;
  readonly projectSwitcher: Locator;
  readonly backendStatus: Locator;
  readonly statusBar: Locator;
  readonly alerts: Locator;

  constructor(page: Page, server: RunningServer) {
    this.page = page;
    this.server = server;
    this.api = e2eApi(server);
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.projectName = page.getByTestId('project-name');
    this.projectSwitcher = page.getByTestId('project-switcher');
    this.backendStatus = page.getByTestId('backend-status');
    this.statusBar = page.locator('footer.status');
    this.alerts = page.getByRole('alert');
  }

  /** Loads the app from the printed address (with its token), optionally at a route such as `/runs/3`. */
  async goto(route?: string): Promise<void> {
    await this.page.goto(route ? `${this.server.url}#${route}` : this.server.url);
  }

  navLink(name: string): Locator {
    return this.nav.getByRole('link', { name });
  }

  /** Opens a screen from the main navigation (English names: the UI is in English unless a spec switched). */
  async openArea(name: Area): Promise<void> {
    await this.navLink(name).click();
  }

  heading(name: string | RegExp, exact = true): Locator {
    return this.page.getByRole('heading', typeof name === 'string' ? { name, exact } : { name });
  }

  /** An alert showing a text (errors are worded in the UI language, with what to do). */
  alert(hasText: string): Locator {
    return this.alerts.filter({ hasText });
  }

  /** Closes every alert on screen with its own button. */
  async dismissAlerts(): Promise<void> {
    const dismiss = this.alerts.getByRole('button');
    while ((await dismiss.count()) > 0) await dismiss.first().click();
  }

  /** The UI language through the settings API (as another window would), waiting for the page to follow. */
  async setLanguage(lang: 'en' | 'ja'): Promise<void> {
    await switchLanguage(this.server, this.page, lang);
  }

  /** Saves `test-results/screens/<name>.png` for people to look at. */
  async screenshot(name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
    await this.page.screenshot({ path: `test-results/screens/${name}.png`, ...opts });
  }
}
