import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImportReport } from '../../../shared/library-types.ts';
import type { Project } from '../../projects/project.ts';
import type { Services } from '../../services.ts';
import { runImport, type ImportEntry } from '../import.ts';
import { maskToRegion } from '../rle.ts';
import { DEMO_DEFECTS, renderCore, type DemoDefect } from './render.ts';

export interface DemoOptions {
  /**
   * Total images: a third OK, the rest shared by the four defects (default 150 = 50 OK + 25 of each). 150 leaves
   * about 35 validation images, so one miss moves accuracy by 3 points rather than 7, and each defect type has
   * about 6 images to measure localisation on.
   */
  count?: number;
  seed?: number;
  onProgress?(done: number, total: number, phase: 'render' | 'import'): void;
  /** Stops between images (the project closing, or the user cancelling the demo task). */
  signal?: AbortSignal;
}

/** Images in a demo project unless asked otherwise (the app's first launch, `kensa demo`). */
export const DEMO_DEFAULT_COUNT = 150;

/** The defect of each demo image, in order: OK first third, then the defects in turn. */
export function demoPlan(count: number): DemoDefect[] {
  const ok = Math.round(count / 3);
  const plan: DemoDefect[] = Array.from({ length: ok }, () => 'ok');
  const defects = DEMO_DEFECTS.filter((d) => d !== 'ok');
  for (let i = 0; plan.length < count; i++) plan.push(defects[i % defects.length]!);
  return plan;
}

/** Renders a demo image as PNG bytes with its mask region (null for OK). */
export async function renderDemoPng(seed: number, defect: DemoDefect, size = 640) {
  return encodeDemo(renderCore({ seed, defect, size }));
}

async function encodeDemo(img: ReturnType<typeof renderCore>) {
  const { size } = img;
  const png = await sharp(Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength), {
    raw: { width: size, height: size, channels: 3 },
  })
    .png({ compressionLevel: 4 })
    .toBuffer();
  return { png, coreType: img.coreType, region: img.defect === 'ok' ? null : maskToRegion(img.mask, size, size) };
}

/** Fills a (new) project with generated motor-core photos, labelled, with core types and defect masks. */
export async function populateDemoProject(s: Services, project: Project, opts: DemoOptions = {}): Promise<ImportReport> {
  const count = opts.count ?? DEMO_DEFAULT_COUNT;
  const seed = opts.seed ?? 1;
  const plan = demoPlan(count);
  const dir = mkdtempSync(join(tmpdir(), 'kensa-demo-'));
  try {
    const entries: ImportEntry[] = [];
    const counters = new Map<string, number>();
    // Rendering (JS) of the next image overlaps the PNG encoding (sharp's threads) of the previous ones.
    const pending: Promise<void>[] = [];
    for (let i = 0; i < plan.length; i++) {
      opts.signal?.throwIfAborted();
      const defect = plan[i]!;
      const n = (counters.get(defect) ?? 0) + 1;
      counters.set(defect, n);
      const img = renderCore({ seed: seed * 100003 + i, defect, size: 640 });
      const sub = join(dir, defect);
      mkdirSync(sub, { recursive: true });
      const slot = entries.length;
      entries.push({ path: '', labelName: defect });
      pending.push(
        encodeDemo(img).then(async (r) => {
          const path = join(sub, `${r.coreType}_${defect}_${String(n).padStart(3, '0')}.png`);
          await writeFile(path, r.png);
          const e: ImportEntry = { path, labelName: defect, coreType: r.coreType, regionSource: 'demo' };
          if (r.region) e.regions = [{ defectTypeKey: defect, kind: 'mask', ...r.region }];
          entries[slot] = e;
          opts.onProgress?.(slot + 1, plan.length, 'render');
        }),
      );
      if (pending.length >= 2) await pending.shift();
    }
    await Promise.all(pending);
    const report = await runImport(
      project,
      { paths: [dir], labels: { from: 'folders', createUnknown: false } },
      { progress: (d, t) => opts.onProgress?.(d, t, 'import'), ...(opts.signal ? { signal: opts.signal } : {}) },
      entries,
    );
    s.events.emit('libraryChanged', { reason: 'demo' });
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
