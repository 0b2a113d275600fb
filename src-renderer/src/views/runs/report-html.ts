import { formatWithInterval, honestFigures } from '../../../../src-main/shared/operating-point.ts';
import type { Evaluation, RunDetail } from '../../../../src-main/shared/training-types.ts';
import { i18n, t } from '../../i18n/i18n.svelte.ts';
import { api } from '../../lib/api.ts';
import { num, pct } from '../../lib/format.ts';
import { augLabel } from '../train/format.ts';
import { className, misclassified, type OperatingPoint } from './evaluation.ts';
import { scoreMethodLabel, scoreTypeLabel } from './heatmap-scores.ts';

/** Accuracy with its 95 % Wilson interval, at the evaluation's threshold. */
function accuracyText(ev: Evaluation): string {
  const h = honestFigures(ev);
  const at = ev.threshold != null ? ` @ ${num(ev.threshold)}` : '';
  return `${formatWithInterval(h.accuracy.value, h.accuracy.ci)}${at}`;
}

const esc = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

async function toDataUrl(url: string): Promise<string | null> {
  try {
    const res = await fetch(url);
    if (!res.ok) return null;
    const blob = await res.blob();
    return await new Promise<string>((ok, fail) => {
      const r = new FileReader();
      r.onload = () => ok(String(r.result));
      r.onerror = () => fail(r.error);
      r.readAsDataURL(blob);
    });
  } catch {
    return null;
  }
}

function canvasImage(root: HTMLElement, testid: string, title: string, legend: [string, string][]): string {
  const c = root.querySelector<HTMLCanvasElement>(`[data-testid="${testid}"] canvas`);
  try {
    if (!c) return '';
    const keys = legend.map(([color, label]) => `<i style="background:${color}"></i>${esc(label)}`).join('');
    return `<div><h3>${esc(title)}</h3><img class="chart" src="${c.toDataURL('image/png')}" alt="${esc(title)}"><p class="legend">${keys}</p></div>`;
  } catch {
    return '';
  }
}

/**
 * A self-contained HTML report of a run (charts as embedded PNGs, ROC/PR as inline SVG, misclassified
 * thumbnails as data URLs): one file to mail or archive, no app needed to read it.
 */
export async function buildReportHtml(
  root: HTMLElement,
  run: RunDetail,
  ev: Evaluation | null,
  op: OperatingPoint | null,
  lang: 'en' | 'ja',
): Promise<string> {
  const c = run.config;
  const facts: [string, string][] = [
    [t('runs.col.status'), t(`runs.status.${run.status}`)],
    [t('runs.col.task'), run.task === 'binary' ? t('runs.task.binary') : t('runs.task.multiclass')],
    [t('runs.col.backbone'), run.backbone],
    [t('runs.col.size'), `${run.inputSize} px`],
    [t('runs.col.blocks'), c.fineTuneBlocks > 0 ? String(c.fineTuneBlocks) : t('runs.transferOnly')],
    [t('runs.compare.epochs'), `${run.epochs.length} (${c.epochs} + ${c.fineTuneEpochs})`],
    [t('train.opt.lr'), `${c.learningRate} / ${c.fineTuneLearningRate}`],
    [t('train.opt.batch'), String(c.batchSize)],
    [t('train.aug.title'), augLabel(c.augmentation.mode)],
    [t('runs.report.images'), `${run.trainCount} / ${run.valCount} / ${run.testCount}`],
    [t('runs.col.backend'), run.backend ? `${run.backend.training} / ${run.backend.inference}` : '–'],
    [t('runs.col.duration'), i18n.durationMs(run.durationMs)],
    [t('runs.col.created'), i18n.date(run.createdAt)],
  ];
  let evHtml = `<p>${esc(t('runs.report.noEvaluation'))}</p>`;
  if (ev) {
    const labels = ev.classes.map((k) => className(run.classInfo, k, lang));
    const cm = `<table class="cm"><tr><th>${esc(t('runs.cm.actual'))} \\ ${esc(t('runs.cm.predicted'))}</th>${labels.map((l) => `<th>${esc(l)}</th>`).join('')}</tr>${ev.confusion
      .map(
        (row, a) =>
          `<tr><th>${esc(labels[a] ?? '')}</th>${row.map((n, p) => `<td class="${a === p ? 'ok' : n ? 'ng' : ''}">${n}</td>`).join('')}</tr>`,
      )
      .join('')}</table>`;
    const per = `<table><tr><th>${esc(t('train.data.class'))}</th><th>${esc(t('runs.report.precision'))}</th><th>${esc(t('runs.report.recall'))}</th><th>F1</th><th>${esc(t('runs.report.support'))}</th></tr>${ev.perClass
      .map(
        (p) =>
          `<tr><td>${esc(className(run.classInfo, p.key, lang))}</td><td>${num(p.precision)}</td><td>${num(p.recall)}</td><td>${num(p.f1)}</td><td>${p.support}</td></tr>`,
      )
      .join('')}</table>`;
    const svgs = ['roc-curve', 'pr-curve'].map((id) => root.querySelector(`[data-testid="${id}"]`)?.outerHTML ?? '').join('');
    const bin =
      ev.binary && op
        ? `<p>ROC AUC ${num(ev.binary.auc)} · ${esc(t('runs.report.threshold'))} ${num(op.threshold, 2)}: ${esc(t('runs.report.defectRecall'))} ${pct(op.recall)}, ${esc(t('runs.report.falseAlarm'))} ${pct(op.falseAlarm)}</p><div class="curves">${svgs}</div>`
        : '';
    const wrong = misclassified(ev).slice(0, 24);
    const thumbs = await Promise.all(wrong.map((w) => toDataUrl(api.mediaUrl('thumb', String(w.imageId)))));
    const wrongHtml = wrong
      .map(
        (w, i) =>
          `<figure><img src="${thumbs[i] ?? ''}" alt="#${w.imageId}"><figcaption>#${w.imageId} ${esc(labels[w.actual] ?? '')} → ${esc(labels[w.predicted] ?? '')}</figcaption></figure>`,
      )
      .join('');
    evHtml = `<h2>${esc(t('runs.report.evaluation'))}: ${esc(t(`runs.split.${ev.split}`))} (${ev.count})</h2>
<p class="kpi">${esc(t('runs.report.accuracy'))} <b>${esc(accuracyText(ev))}</b> · ${esc(t('runs.report.loss'))} <b>${num(ev.loss)}</b> · ${esc(t('runs.report.macroF1'))} <b>${num(ev.macroF1)}</b></p>
<div class="two"><div><h3>${esc(t('runs.report.confusion'))}</h3>${cm}</div><div><h3>${esc(t('runs.report.perClass'))}</h3>${per}</div></div>${bin}
<h3>${esc(t('runs.report.misclassified', { count: misclassified(ev).length }))}</h3><div class="thumbs">${wrongHtml}</div>`;
    // Localisation of the heatmaps against the defect regions (same table as the report screen).
    const scores = run.hasModel ? await api.getHeatmapScores(run.id, { split: ev.split }).catch(() => null) : null;
    if (scores?.rows.length) {
      const head = [
        t('runs.hm.type'),
        t('runs.hm.method'),
        t('heatmaps.pointing'),
        t('heatmaps.energyShort'),
        t('runs.hm.chance'),
        t('runs.hm.maps'),
      ];
      evHtml += `<h2>${esc(t('runs.hm.title', { split: t(`runs.split.${ev.split}`) }))}</h2><table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${scores.rows
        .map(
          (r) =>
            `<tr><td>${esc(scoreTypeLabel(t, r, run.classInfo, lang))}</td><td>${esc(scoreMethodLabel(t, r))}</td><td>${pct(r.pointingAccuracy)}</td><td>${pct(r.meanEnergy)}</td><td>${pct(r.meanArea)}</td><td>${r.count}</td></tr>`,
        )
        .join('')}</table><p class="muted">${esc(t('heatmaps.scoresHint', { tol: scores.tolerance }))}</p>`;
    }
  }
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${esc(run.name)} – Kensa</title>
<style>body{font-family:'Segoe UI','Noto Sans JP','Yu Gothic UI',Meiryo,sans-serif;color:#1b2430;margin:24px;max-width:1100px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d9e0e7;padding:4px 8px;text-align:left;font-size:13px}
.cm td{text-align:center;min-width:48px}.cm td.ok{background:#e8f5e9}.cm td.ng{background:#fdecea}
.two{display:flex;gap:32px;flex-wrap:wrap}.charts{display:flex;gap:16px;flex-wrap:wrap}.chart{max-width:520px;border:1px solid #d9e0e7}
.curves{display:flex;gap:24px}.curves figure{margin:0}.thumbs{display:flex;flex-wrap:wrap;gap:8px}.thumbs figure{margin:0;width:110px;font-size:11px}.thumbs figure img{width:110px;height:110px;object-fit:cover}.legend{font-size:12px;color:#5d6b7a;margin:4px 0 0}.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 10px}
.kpi b{font-size:18px}.muted{color:#5d6b7a}</style></head><body>
<h1>${esc(run.name)} <span class="muted">#${run.id}</span></h1>
<p class="muted">${esc(t('runs.report.generated', { date: i18n.date(new Date().toISOString()) }))}</p>
<table>${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>${esc(t('runs.report.curves'))}</h2><div class="charts">${canvasImage(root, 'report-loss', t('train.live.loss'), [
    ['#1f6feb', t('train.live.trainLoss')],
    ['#f76b15', t('train.live.valLoss')],
    ['#1f6feb55', t('train.live.batchLoss')],
  ])}${canvasImage(root, 'report-accuracy', t('train.live.accuracy'), [
    ['#1f6feb', t('train.live.trainAcc')],
    ['#f76b15', t('train.live.valAcc')],
  ])}</div>
${evHtml}
</body></html>`;
}

export async function downloadReport(
  root: HTMLElement,
  run: RunDetail,
  ev: Evaluation | null,
  op: OperatingPoint | null,
  lang: 'en' | 'ja',
): Promise<void> {
  const html = await buildReportHtml(root, run, ev, op, lang);
  const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `kensa-run-${run.id}-report.html`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
