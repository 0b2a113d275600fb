import type { TaskSnapshot } from '../../../src-main/shared/types.ts';
import { i18n, t } from '../i18n/i18n.svelte.ts';

/** A task's title in the UI language, from its data; the server's English title when it has none. */
export function taskTitle(s: Pick<TaskSnapshot, 'title' | 'what'>): string {
  const w = s.what;
  if (!w) return s.title;
  switch (w.kind) {
    case 'import':
      return w.files === null ? t('task.importFolders') : t('task.import', { files: i18n.number(w.files) });
    case 'inspect':
      return t('task.inspect', { images: i18n.number(w.images), run: w.run });
    case 'heatmaps':
      return t('task.heatmaps', {
        methods: w.methods.map((m) => t(`heatmaps.method.${m as 'cam' | 'gradcam' | 'saliency' | 'smoothgrad'}`)).join(' + '),
        images: i18n.number(w.images),
      });
    case 'training':
      return t('task.training', { name: w.name });
    case 'demo':
      return t('task.demo');
    case 'crossValidation':
      return t('task.crossValidation', { name: w.name, total: w.total });
  }
}

/** What a running task is doing, in the UI language; the server's English message when it sent no step. */
export function taskStep(s: Pick<TaskSnapshot, 'message' | 'step'>): string | null {
  const p = s.step;
  if (!p) return s.message ?? null;
  switch (p.kind) {
    case 'finetune':
      return t('task.step.finetune', { blocks: p.blocks });
    case 'cv-fold':
      if (p.stopping) return t('task.step.cv-stopping', { fold: p.fold, folds: p.folds });
      return p.repeats > 1
        ? t('task.step.cv-fold-repeat', { fold: p.fold, folds: p.folds, repeat: p.repeat, repeats: p.repeats })
        : t('task.step.cv-fold', { fold: p.fold, folds: p.folds });
    case 'gradient-backend':
      return p.training === p.inference
        ? t('task.step.gradient-backend', { training: p.training })
        : t('task.step.gradient-backend-slower', { training: p.training, inference: p.inference });
    case 'import-scan':
      return t('task.step.import-scan', { files: i18n.number(p.files) });
    case 'import-done':
      return t('task.step.import-done', {
        imported: i18n.number(p.imported),
        duplicates: i18n.number(p.duplicates),
        skipped: i18n.number(p.skipped),
      });
    case 'inspect-done':
      return t('task.step.inspect-done', {
        inspected: i18n.number(p.inspected),
        ng: i18n.number(p.ng),
        rate: i18n.number(p.imagesPerSecond, 1),
      });
    default:
      return t(`task.step.${p.kind}`);
  }
}
