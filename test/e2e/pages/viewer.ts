import type { Locator } from '@playwright/test';
import type { Shell } from './shell.ts';

/** The image viewer over the library: tools, drawing on the stage, the region list and "Draw as". */
export class ViewerPanel {
  readonly shell: Shell;
  readonly root: Locator;
  readonly stage: Locator;
  readonly regions: Locator;
  readonly selectedRegions: Locator;
  readonly drawAs: Locator;

  constructor(shell: Shell) {
    this.shell = shell;
    this.root = shell.page.getByTestId('viewer');
    this.stage = this.root.getByTestId('viewer-stage');
    this.regions = this.root.getByTestId('region-list').locator('li');
    this.selectedRegions = this.root.getByTestId('region-list').locator('li.sel');
    this.drawAs = this.root.getByRole('combobox', { name: 'Draw as' });
  }

  /** The rectangle tool (a button), or a tool given as a radio by its name ("Brush", "Select"). */
  async useTool(tool: 'rect' | 'Brush' | 'Select'): Promise<void> {
    if (tool === 'rect') await this.root.getByTestId('tool-rect').click();
    else await this.root.getByRole('radio', { name: tool }).click();
  }

  /**
   * One mouse stroke on the stage: down at the first point, through the others (`steps` moves each), up at the last.
   * Points are pixels from the stage's centre.
   */
  async stroke(points: [number, number][], steps = 5): Promise<void> {
    const box = (await this.stage.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const mouse = this.shell.page.mouse;
    const [first, ...rest] = points;
    await mouse.move(cx + first![0], cy + first![1]);
    await mouse.down();
    for (const [dx, dy] of rest) await mouse.move(cx + dx, cy + dy, { steps });
    await mouse.up();
  }
}

/** The viewer's file name in its top bar (the image it shows). Appended by DEEPLINK. */
export function viewerFileName(viewer: ViewerPanel): Locator {
  return viewer.root.locator('.fname');
}
