/**
 * The state of one run's report screen, shared by its parts (views/runs/report/*.svelte take it as `report`):
 * the run, the split shown, the operating-point slider and aim, and the actions (rename, active model, exports,
 * test evaluation). One per RunReport; the figures follow the slider through $derived.
 */
import { evaluationAt, honestFigures, type OperatingAim } from '../../../../../src-main/shared/operating-point.ts';
import type { BatchLossRecord, RunDetail } from '../../../../../src-main/shared/training-types.ts';
import { i18n, t } from '../../../i18n/i18n.svelte.ts';
import { api } from '../../../lib/api.ts';
import { num, pctTrim } from '../../../lib/format.ts';
import { OverwriteConfirm } from '../../../lib/overwrite.svelte.ts';
import { app } from '../../../state/app.svelte.ts';
import { className, misclassified, operatingPoint, operatingPointOf } from '../evaluation.ts';
import { buildReportHtml } from '../report-html.ts';
import { runsState } from '../runs.svelte.ts';
import { aimOf, controlsOf, recallAtRates, shownSplit, suggestFor, type AimKind } from './aim.ts';

export class RunReportState {
  runId = $state(0);
  run = $state<RunDetail | null>(null);
  batches = $state.raw<BatchLossRecord[]>([]);
  split = $state<'train' | 'val' | 'test'>('val');
  /** The confusion-matrix cell whose images are shown. */
  cell = $state<{ actual: number; predicted: number } | null>(null);
  threshold = $state(0.5);
  aimKind = $state<AimKind>('balanced');
  /** Targets in percent, as typed. */
  recallTarget = $state(99);
  farTarget = $state(1);
  /** An action is running (active model, export, test evaluation): their buttons wait. */
  busy = $state(false);
  saving = $state(false);
  /** The model-export form is open. */
  exporting = $state(false);
  exportDir = $state('');
  /** The HTML report asks where to save, as every export does (null: not asking now). */
  reportPath = $state<string | null>(null);
  private reportFolder: string | null = null;
  readonly overwrite = new OverwriteConfirm();

  lang = $derived(i18n.lang);
  /** Validation (and training) evaluations; the locked test split is shown apart. */
  shownEvaluations = $derived(this.run ? this.run.evaluations.filter((e) => e.split !== 'test') : []);
  base = $derived(this.run?.evaluations.find((e) => e.split === this.split && e.split !== 'test') ?? null);
  /** The shown split at the slider's threshold: matrix, accuracy, per-class figures and recall all move with it. */
  evaluation = $derived(this.base?.binary && this.base.samples ? evaluationAt(this.base, this.threshold) : this.base);
  movable = $derived(!!this.base?.binary && !!this.base.samples);
  figures = $derived(this.evaluation ? honestFigures(this.evaluation) : null);
  testEval = $derived(this.run?.evaluations.find((e) => e.split === 'test') ?? null);
  testFigures = $derived(this.testEval ? honestFigures(this.testEval) : null);
  aim = $derived<OperatingAim>(aimOf(this.aimKind, this.recallTarget, this.farTarget));
  suggestion = $derived(
    suggestFor(
      this.run?.evaluations.find((e) => e.split === 'val'),
      this.aim,
    ),
  );
  atRates = $derived(recallAtRates(this.base));
  isStored = $derived(this.run?.threshold != null && Math.abs(this.run.threshold - this.threshold) < 1e-9);
  labels = $derived(this.evaluation && this.run ? this.evaluation.classes.map((k) => className(this.run!.classInfo, k, this.lang)) : []);
  op = $derived(
    this.evaluation?.binary
      ? this.movable
        ? operatingPointOf(this.evaluation)
        : operatingPoint(this.evaluation.binary, this.threshold)
      : null,
  );
  cellIds = $derived(
    this.cell && this.evaluation ? (this.evaluation.confusionImageIds[this.cell.actual]?.[this.cell.predicted] ?? []) : [],
  );
  wrong = $derived(this.evaluation ? misclassified(this.evaluation) : []);

  /** Shows another run (the split and aim shown stay as they are where the run has them). */
  open(runId: number): void {
    this.runId = runId;
    this.run = null;
    this.cell = null;
    void this.load();
  }

  async load(): Promise<void> {
    const runId = this.runId;
    const d = await app.guard(() => runsState.detail(runId, true));
    if (!d) return;
    this.run = d;
    this.split = shownSplit(d, this.split);
    const b = d.evaluations.find((e) => e.split !== 'test' && e.split === this.split)?.binary;
    if (d.threshold !== null) this.threshold = d.threshold;
    else if (b) this.threshold = b.threshold;
    const c = controlsOf(d.operatingPoint?.aim);
    if (c) {
      this.aimKind = c.kind;
      if (c.kind === 'recall') this.recallTarget = c.targetPct!;
      if (c.kind === 'falseAlarm') this.farTarget = c.targetPct!;
    }
    this.batches = (await api.getRunBatchLosses(runId).catch(() => [])) ?? [];
  }

  /** This run and the runs list again (after a change the list shows too). */
  async refresh(): Promise<void> {
    await this.load();
    await runsState.load();
  }

  showSplit(split: 'train' | 'val' | 'test'): void {
    this.split = split;
    this.cell = null;
  }

  /** Renames the run; false when the service refused (the error is shown). */
  async saveName(name: string): Promise<boolean> {
    const runId = this.runId;
    return !!(await app.guard(() => api.renameRun(runId, name)));
  }

  aimName(a: OperatingAim | undefined): string {
    if (!a) return '';
    if (a.kind === 'recall') return t('runs.op.aimName.recall', { t: pctTrim(a.target, 3) });
    if (a.kind === 'falseAlarm') return t('runs.op.aimName.falseAlarm', { t: pctTrim(a.target, 3) });
    return a.kind === 'balanced' ? t('runs.op.aimName.balanced') : t('runs.op.aimName.manual');
  }

  /** Moves the slider to the threshold validation gives for the chosen aim. */
  suggest(): void {
    if (this.suggestion && this.suggestion.basis === 'validation') this.threshold = this.suggestion.threshold;
  }

  pickAim(kind: AimKind): void {
    this.aimKind = kind;
    this.suggest();
  }

  setTarget(kind: 'recall' | 'falseAlarm', v: number): void {
    if (!Number.isFinite(v) || v <= 0 || v > 100) return;
    if (kind === 'recall') this.recallTarget = v;
    else this.farTarget = v;
    if (this.aimKind === kind) this.suggest();
  }

  /** Stores the slider's threshold with the run: as the aim when the slider sits on its suggestion, else manual. */
  async useThreshold(): Promise<void> {
    const s = this.suggestion;
    const fromAim = s !== null && s.basis === 'validation' && Math.abs(s.threshold - this.threshold) < 1e-9;
    const v = this.threshold;
    const runId = this.runId;
    const aim = this.aim;
    this.saving = true;
    const d = await app.guard(() => (fromAim ? api.setOperatingPoint(runId, aim) : api.setOperatingPoint(runId, { kind: 'manual' }, v)));
    this.saving = false;
    if (!d) return;
    this.run = d;
    if (d.threshold !== null) this.threshold = d.threshold;
    app.flash(t('runs.op.used', { v: d.threshold === null ? '' : num(d.threshold) }));
    void runsState.load();
  }

  async setActive(on: boolean): Promise<void> {
    const runId = this.runId;
    this.busy = true;
    const ok = await app.guard(async () => {
      await api.setActiveModel(on ? runId : null);
      return true;
    });
    this.busy = false;
    if (ok) {
      app.flash(on ? t('runs.report.activeSet') : t('runs.report.activeCleared'));
      await this.refresh();
    }
  }

  async evaluateTest(): Promise<void> {
    const runId = this.runId;
    this.busy = true;
    const d = await app.guard(() => api.evaluateRun(runId, 'test'));
    this.busy = false;
    if (d) this.run = d;
  }

  /** Deletes the run after asking; true when it is gone. */
  async remove(): Promise<boolean> {
    const run = this.run;
    if (!run || !confirm(t('runs.report.deleteConfirm', { name: run.name }))) return false;
    return !!(await app.guard(async () => {
      await api.deleteRun(run.id);
      return true;
    }));
  }

  async exportModel(): Promise<void> {
    const runId = this.runId;
    this.busy = true;
    const res = await this.overwrite.run((replace) => api.exportModel(runId, this.exportDir, { overwrite: replace }));
    this.busy = false;
    if (res) {
      app.flash(t('runs.report.exported', { dir: res.dir, count: res.files.length }));
      this.exporting = false;
    }
  }

  /** Opens the HTML report's save field: the folder saved to last, else the project's exports/reports. */
  askReportPath(): void {
    if (!this.run || !app.project) return;
    this.reportPath = `${this.reportFolder ?? `${app.project.dir}/exports/reports`}/kensa-run-${this.run.id}-report.html`;
  }

  /** Saves the HTML report; `root` is the report on screen (its charts are copied into the file). */
  async exportHtml(root: HTMLElement, file: string): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.busy = true;
    const html = await app.guard(() => buildReportHtml(root, run, this.evaluation, this.op, this.lang));
    const r =
      html === undefined ? undefined : await this.overwrite.run((replace) => api.saveRunReport(run.id, html, file, { overwrite: replace }));
    this.busy = false;
    if (r) {
      this.reportFolder = r.path.replace(/[\\/][^\\/]*$/, '');
      this.reportPath = null;
      app.flash(t('runs.report.htmlSaved', { path: r.path }));
    }
  }
}
