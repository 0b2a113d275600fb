/**
 * Inspect with an anomaly model and a type classifier: an NG image gets the classifier's most likely defect type, or
 * "unknown type" when the classifier is unsure (or thinks the image is OK); OK images get none; moving the threshold
 * re-derives both; the CSV carries the type columns.
 */
import { describe, expect, it } from 'vitest';
import type { InspectItem, Inspection } from '../../src-main/shared/api/inspect.ts';
import type { ClassInfo } from '../../src-main/shared/training-types.ts';
import { inspectionToCsv, UNKNOWN_TYPE } from '../../src-main/services/inspect/csv.ts';
import { applyThreshold, defectTypeOf, namesTypes, TYPE_MIN_PROBABILITY } from '../../src-main/services/inspect/verdict.ts';

const cls = (key: string, isOk = false): ClassInfo => ({ key, nameEn: key, nameJa: key, color: '#888', isOk });
const anomalyClasses = [cls('ok', true), cls('defect')];
const typeClasses = [cls('ok', true), cls('chip'), cls('scratch'), cls('dent')];

function item(index: number, pDefect: number, typeProbabilities: number[] | undefined): InspectItem {
  return {
    index,
    imageId: null,
    path: `/photos/p${index}.png`,
    name: `p${index}.png`,
    media: { kind: 'file', id: `x/${index}` },
    labelKey: null,
    predicted: 0,
    predictedKey: 'ok',
    confidence: 1 - pDefect,
    probabilities: [1 - pDefect, pDefect],
    defectScore: pDefect,
    verdict: 'ok',
    ...(typeProbabilities ? { typeProbabilities } : {}),
  };
}

function inspection(items: InspectItem[], withType = true): Inspection {
  return {
    id: 'abc',
    runId: 2,
    runName: 'good parts',
    task: 'anomaly',
    classes: anomalyClasses,
    threshold: 0.5,
    modelThreshold: 0.5,
    items,
    skipped: [],
    createdAt: '2026-12-02T00:00:00.000Z',
    elapsedMs: 10,
    imagesPerSecond: 100,
    partial: false,
    typeRun: withType ? { id: 1, name: 'types', classes: typeClasses, minProbability: TYPE_MIN_PROBABILITY } : null,
  };
}

describe('defect type of an NG image', () => {
  it('names the most likely defect class when the classifier is sure enough', () => {
    expect(defectTypeOf(typeClasses, [0.05, 0.1, 0.8, 0.05])).toEqual({ key: 'scratch', probability: 0.8, known: true });
  });
  it('is unknown when the most likely defect is below the stated level', () => {
    const d = defectTypeOf(typeClasses, [0.1, 0.35, 0.3, 0.25]);
    expect(d).toMatchObject({ key: 'chip', known: false });
    expect(d!.probability).toBeCloseTo(0.35);
  });
  it('is unknown when the classifier thinks the image is OK (a defect it was never shown)', () => {
    expect(defectTypeOf(typeClasses, [0.9, 0.04, 0.03, 0.03])).toMatchObject({ key: 'chip', known: false });
  });
  it('keeps the level the caller states', () => {
    expect(defectTypeOf(typeClasses, [0.1, 0.35, 0.3, 0.25], 0.3)?.known).toBe(true);
  });
  it('only classifiers with two or more defect classes name types', () => {
    expect(namesTypes({ task: 'multiclass', hasModel: true }, typeClasses)).toBe(true);
    expect(namesTypes({ task: 'binary', hasModel: true }, anomalyClasses)).toBe(false);
    expect(namesTypes({ task: 'anomaly', hasModel: true }, typeClasses)).toBe(false);
    expect(namesTypes({ task: 'multiclass', hasModel: false }, typeClasses)).toBe(false);
    expect(defectTypeOf([cls('ok', true)], [1])).toBeNull();
  });
});

describe('Inspect verdicts with a type classifier', () => {
  const items = [item(0, 0.9, [0.05, 0.85, 0.05, 0.05]), item(1, 0.7, [0.8, 0.1, 0.05, 0.05]), item(2, 0.2, [0.02, 0.9, 0.04, 0.04])];

  it('gives NG images a type or unknown type, and OK images none', () => {
    const ins = applyThreshold(inspection(items), 0.5);
    expect(ins.items.map((i) => i.verdict)).toEqual(['ng', 'ng', 'ok']);
    expect(ins.items[0]!.defectType).toEqual({ key: 'chip', probability: 0.85, known: true });
    expect(ins.items[1]!.defectType).toMatchObject({ known: false });
    // Sure to be a chip for the classifier, but the anomaly model calls it good: no type.
    expect(ins.items[2]!.defectType).toBeNull();
  });

  it('re-derives types when the threshold moves', () => {
    const strict = applyThreshold(inspection(items), 0.1);
    expect(strict.items[2]!.defectType).toEqual({ key: 'chip', probability: 0.9, known: true });
    const lax = applyThreshold(strict, 0.95);
    expect(lax.items.every((i) => i.verdict === 'ok' && i.defectType === null)).toBe(true);
  });

  it('leaves items without a classifier untouched', () => {
    const ins = applyThreshold(inspection([item(0, 0.9, undefined)], false), 0.5);
    expect(ins.items[0]!.verdict).toBe('ng');
    expect('defectType' in ins.items[0]!).toBe(false);
  });

  it('writes the defect type and its probability to the CSV (UNKNOWN when unsure, empty for OK)', () => {
    const csv = inspectionToCsv(applyThreshold(inspection(items), 0.5));
    const rows = csv
      .trim()
      .split('\r\n')
      .map((r) => r.split(','));
    const head = rows[0]!;
    const at = (row: number, col: string) => rows[row]![head.indexOf(col)];
    expect(head).toContain('defect_type');
    expect(at(1, 'defect_type')).toBe('chip');
    expect(at(1, 'type_probability')).toBe('0.850000');
    expect(at(2, 'defect_type')).toBe(UNKNOWN_TYPE);
    expect(at(3, 'defect_type')).toBe('');
    expect(rows.every((r) => r.length === head.length)).toBe(true);
    // Without a type classifier the CSV keeps its columns.
    expect(inspectionToCsv(applyThreshold(inspection([item(0, 0.9, undefined)], false), 0.5))).not.toContain('defect_type');
  });
});
