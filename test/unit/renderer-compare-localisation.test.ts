import { describe, expect, it } from 'vitest';
import type { GalleryItem, ScoreTable } from '../../src-main/shared/heatmap-types.ts';
import type { ClassInfo, Evaluation, RunDetail } from '../../src-main/shared/training-types.ts';
import {
  ALL_TYPES,
  camFigures,
  compareRows,
  defaultPair,
  missingMaps,
  pairImages,
  sortPairs,
  typeHits,
} from '../../src-renderer/src/views/runs/compare-localisation.ts';

const cls = (key: string, isOk = false): ClassInfo => ({ key, nameEn: key, nameJa: key, color: '#000', isOk });

function table(runId: number, rows: [string, string, string, number, number, number][]): ScoreTable {
  return {
    runId,
    tolerance: 4,
    rows: rows.map(([method, paramsKey, classKey, count, pointingAccuracy, meanEnergy]) => ({
      method: method as 'cam',
      paramsKey,
      classKey,
      count,
      pointingAccuracy,
      meanEnergy,
      meanArea: 0.1,
    })),
  };
}

function item(
  imageId: number,
  trueLabel: string,
  opts: { regions?: number; energy?: number; pointing?: boolean; name?: string } = {},
): GalleryItem {
  const regions = Array.from({ length: opts.regions ?? 1 }, () => ({ defectTypeKey: trueLabel, x: 1, y: 1, w: 5, h: 5 }));
  return {
    imageId,
    fileName: opts.name ?? `img_${imageId}.jpg`,
    split: 'val',
    trueLabel,
    predictedLabel: null,
    confidence: null,
    probabilities: null,
    correct: null,
    width: 64,
    height: 64,
    regions,
    maps:
      opts.energy === undefined
        ? []
        : [
            {
              method: 'cam',
              classKey: trueLabel,
              mediaId: `m${imageId}`,
              score: { pointing: opts.pointing ?? true, energy: opts.energy, area: 0.1 },
            },
          ],
  };
}

function run(id: number, over: Partial<RunDetail>): RunDetail {
  return {
    id,
    name: `run ${id}`,
    task: 'binary',
    classInfo: [cls('ok', true), cls('defect')],
    evaluations: [],
    config: {},
    ...over,
  } as RunDetail;
}

describe('before / after localisation comparison', () => {
  it('reads only the default CAM rows of a score table, by type and overall', () => {
    const f = camFigures(
      table(1, [
        ['cam', 'd', 'scratch', 10, 0.3, 0.12],
        ['cam', 'd', ALL_TYPES, 14, 0.4, 0.15],
        ['gradcam', 'd', 'scratch', 10, 0.9, 0.5],
        ['cam', 'l-conv_pw_11', 'scratch', 10, 0.8, 0.5],
      ]),
    );
    expect([...f.keys()]).toEqual(['scratch', ALL_TYPES]);
    expect(f.get('scratch')).toEqual({ count: 10, pointing: 0.3, energy: 0.12, area: 0.1 });
    expect(camFigures(null).size).toBe(0);
  });

  it('counts per defect type the images each run got right at its own threshold', () => {
    // Binary run: class 0 OK, 1 defect; threshold 0.6 on P(defect) = 1 - P(OK).
    const evaluation = {
      split: 'val',
      okIndex: 0,
      threshold: 0.6,
      samples: [
        { id: 1, label: 1, probs: [0.2, 0.8] }, // scratch, flagged
        { id: 2, label: 1, probs: [0.45, 0.55] }, // scratch, argmax defect but under the threshold: missed
        { id: 3, label: 1, probs: [0.1, 0.9] }, // dent, flagged
        { id: 4, label: 0, probs: [0.9, 0.1] }, // OK image: not a defect type
      ],
    } as Evaluation;
    const hits = typeHits(
      run(1, { evaluations: [evaluation] }),
      new Map([
        [1, 'scratch'],
        [2, 'scratch'],
        [3, 'dent'],
        [4, 'ok'],
      ]),
    )!;
    expect(hits.get('scratch')).toEqual({ k: 1, n: 2 });
    expect(hits.get('dent')).toEqual({ k: 1, n: 1 });
    expect(hits.get(ALL_TYPES)).toEqual({ k: 2, n: 3 });
    expect(hits.has('ok')).toBe(false);
    // Multiclass: the type is the class itself, right means the right type.
    const multi = run(2, {
      task: 'multiclass',
      classInfo: [cls('ok', true), cls('scratch'), cls('dent')],
      evaluations: [
        {
          split: 'val',
          okIndex: 0,
          threshold: null,
          samples: [
            { id: 1, label: 1, probs: [0.1, 0.2, 0.7] },
            { id: 2, label: 2, probs: [0.1, 0.2, 0.7] },
          ],
        } as Evaluation,
      ],
    });
    const m = typeHits(multi, new Map())!;
    expect(m.get('scratch')).toEqual({ k: 0, n: 1 });
    expect(m.get('dent')).toEqual({ k: 1, n: 1 });
    expect(typeHits(run(3, { evaluations: [{ split: 'val' } as Evaluation] }), new Map())).toBeNull();
  });

  it('builds one row per type in catalog order with the pointing change, the overall row last', () => {
    const a = camFigures(
      table(1, [
        ['cam', 'd', 'scratch', 10, 0.3, 0.12],
        ['cam', 'd', 'crazing', 8, 0.5, 0.2],
        ['cam', 'd', ALL_TYPES, 18, 0.39, 0.15],
      ]),
    );
    const b = camFigures(
      table(2, [
        ['cam', 'd', 'scratch', 10, 0.9, 0.4],
        ['cam', 'd', ALL_TYPES, 10, 0.9, 0.4],
      ]),
    );
    const rows = compareRows(a, b, new Map([['inclusion', { k: 2, n: 3 }]]), null, ['ok', 'scratch', 'crazing', 'inclusion']);
    expect(rows.map((r) => r.key)).toEqual(['scratch', 'crazing', 'inclusion', ALL_TYPES]);
    expect(rows[0]!.deltaPointing).toBeCloseTo(0.6, 10);
    expect(rows[1]!.b).toBeNull();
    expect(rows[1]!.deltaPointing).toBeNull();
    expect(rows[2]).toMatchObject({ a: null, b: null, recallA: { k: 2, n: 3 }, recallB: null });
  });

  it('pairs the defect images with regions both runs saw, and sorts the biggest change first', () => {
    const okKeys = new Set(['ok']);
    const a = [
      item(1, 'scratch', { energy: 0.1, pointing: false }),
      item(2, 'scratch', { energy: 0.5 }),
      item(3, 'ok', { regions: 0 }),
      item(4, 'scratch', { regions: 0 }),
      item(5, 'crazing'),
      item(6, 'crazing', { energy: 0.2 }),
    ];
    const b = [
      item(1, 'scratch', { energy: 0.6, pointing: true }),
      item(2, 'scratch', { energy: 0.55 }),
      item(3, 'ok', { regions: 0 }),
      item(5, 'crazing', { energy: 0.3 }),
    ];
    const pairs = pairImages(a, b, okKeys);
    expect(pairs.map((p) => p.imageId)).toEqual([1, 2, 5]);
    expect(pairs[0]).toMatchObject({ mediaA: 'm1', mediaB: 'm1', scoreA: { pointing: false }, scoreB: { pointing: true } });
    expect(pairs[2]!.mediaA).toBeNull();
    expect(sortPairs(pairs, 'change').map((p) => p.imageId)).toEqual([1, 2, 5]);
    expect(sortPairs([pairs[2]!, pairs[1]!, pairs[0]!], 'change').map((p) => p.imageId)).toEqual([1, 2, 5]);
    expect(sortPairs(pairs, 'name').map((p) => p.a.fileName)).toEqual(['img_1.jpg', 'img_2.jpg', 'img_5.jpg']);
    expect(missingMaps(a, okKeys)).toEqual([5]);
    expect(missingMaps(b, okKeys)).toEqual([]);
  });

  it('compares a plain run before a guided one, else the older before the newer', () => {
    const plain = (id: number) => ({ id, config: { guideRegions: false } as RunDetail['config'] });
    const guided = (id: number) => ({ id, config: { guideRegions: true } as RunDetail['config'] });
    expect(defaultPair([guided(4), plain(7)])).toEqual([7, 4]);
    expect(defaultPair([plain(2), guided(3), plain(5), guided(9)])).toEqual([5, 9]);
    expect(defaultPair([plain(8), plain(3)])).toEqual([3, 8]);
    expect(defaultPair([plain(8)])).toBeNull();
  });
});
