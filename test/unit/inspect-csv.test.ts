import { describe, expect, it } from 'vitest';
import type { Inspection } from '../../src-main/shared/api/inspect.ts';
import type { ClassInfo } from '../../src-main/shared/training-types.ts';
import { inspectionToCsv } from '../../src-main/services/inspect/csv.ts';
import { applyThreshold, defectScore, predictedAt, verdictOf } from '../../src-main/services/inspect/verdict.ts';
import { parseRfc4180 } from '../helpers/rfc4180.ts';

const binary: ClassInfo[] = [
  { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#2e9e5b', isOk: true },
  { key: 'defect', nameEn: 'Defect', nameJa: '欠陥', color: '#e5484d', isOk: false },
];
const multi: ClassInfo[] = [
  { key: 'ok', nameEn: 'OK', nameJa: '良品', color: '#2e9e5b', isOk: true },
  { key: 'scratch', nameEn: 'scratch', nameJa: '傷', color: '#e5484d', isOk: false },
  { key: 'dent', nameEn: 'dent', nameJa: '打痕', color: '#3e63dd', isOk: false },
];

function inspection(probs: number[][], classes = binary, threshold: number | null = 0.5): Inspection {
  return applyThreshold(
    {
      id: 'x',
      runId: 1,
      runName: 'run, "quoted"',
      task: classes.length === 2 ? 'binary' : 'multiclass',
      classes,
      threshold,
      modelThreshold: threshold,
      items: probs.map((p, i) => ({
        index: i,
        imageId: i % 2 ? 7 + i : null,
        path: i % 2 ? null : `/photos/line 3/img,${i}.png`,
        name: i % 2 ? `cat-${i}.jpg` : `img,${i}.png`,
        media: i % 2 ? { kind: 'thumb', id: String(7 + i) } : { kind: 'file', id: `x/${i}` },
        labelKey: null,
        predicted: 0,
        predictedKey: 'ok',
        confidence: 0,
        probabilities: p,
        defectScore: defectScore(classes, p),
        verdict: 'ok',
      })),
      skipped: [],
      createdAt: '2026-11-23T00:00:00Z',
      elapsedMs: 10,
      imagesPerSecond: 100,
      partial: false,
    },
    threshold,
  );
}

describe('inspect verdicts', () => {
  it('binary: NG when P(defect) reaches the threshold, and the predicted class follows it', () => {
    const ins = inspection(
      [
        [0.9, 0.1],
        [0.3, 0.7],
        [0.65, 0.35],
      ],
      binary,
      0.3,
    );
    expect(ins.items.map((i) => i.verdict)).toEqual(['ok', 'ng', 'ng']);
    expect(ins.items.map((i) => i.predictedKey)).toEqual(['ok', 'defect', 'defect']);
    expect(ins.items[2]!.confidence).toBeCloseTo(0.35);
    const stricter = applyThreshold(ins, 0.8);
    expect(stricter.items.map((i) => i.verdict)).toEqual(['ok', 'ok', 'ok']);
  });

  it('multiclass: P(defect) = 1 - P(OK); without a threshold the most probable class decides', () => {
    expect(defectScore(multi, [0.4, 0.3, 0.3])).toBeCloseTo(0.6);
    // With an OK class the threshold decides OK vs defect, then the most probable defect (operating point rule).
    expect(predictedAt(multi, [0.4, 0.3, 0.3], 0.5)).toBe(1);
    expect(predictedAt(multi, [0.4, 0.3, 0.3], 0.7)).toBe(0);
    expect(verdictOf(multi, 0, 0.6, null)).toBe('ok');
    expect(verdictOf(multi, 0, 0.6, 0.5)).toBe('ng');
    expect(verdictOf(multi.slice(1), 0, null, 0.5)).toBe('ng');
  });
});

describe('inspection CSV', () => {
  it('has a header, one quoted-as-needed row per image, and probabilities per class', () => {
    const csv = inspectionToCsv(
      inspection([
        [0.9, 0.1],
        [0.2, 0.8],
      ]),
    );
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'index,name,path,image_id,label,predicted,confidence,p_defect,verdict,threshold,reason_code,reason,prob_ok,prob_defect',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('0,"img,0.png","/photos/line 3/img,0.png",,,ok,0.900000,0.100000,OK,0.5,,,0.900000,0.100000');
    expect(lines[2]).toBe('1,cat-1.jpg,,8,,defect,0.800000,0.800000,NG,0.5,,,0.200000,0.800000');
  });

  it('neutralises names a spreadsheet would run, quotes per RFC 4180, and adds a row per unreadable file', () => {
    const ins = inspection([[0.9, 0.1]]);
    ins.items[0]!.name = '=HYPERLINK("http://x","open")';
    ins.items[0]!.path = '/photos/@line3/=HYPERLINK("http://x","open")';
    ins.skipped = [
      { path: '/photos/-2+3.jpg', code: 'corrupt', reason: 'The image is damaged: "bad, Huffman"' },
      { path: '#12', code: 'failed', reason: 'EngineCrashedError: gone' },
      { path: '/photos/notes.txt', code: 'not-an-image', reason: 'Not an image file (.txt).' },
    ];
    const rows = parseRfc4180(inspectionToCsv(ins));
    expect(rows).toHaveLength(4);
    expect(rows[1]!.slice(1, 3)).toEqual(['\'=HYPERLINK("http://x","open")', '/photos/@line3/=HYPERLINK("http://x","open")']);
    expect(rows[2]).toEqual([
      '',
      "'-2+3.jpg",
      '/photos/-2+3.jpg',
      '',
      '',
      '',
      '',
      '',
      'UNREADABLE',
      '0.5',
      'corrupt',
      'The image is damaged: "bad, Huffman"',
      '',
      '',
    ]);
    expect(rows[3]!.slice(0, 4)).toEqual(['', '#12', '', '12']);
    expect(rows[3]![10]).toBe('failed');
  });
});
