import type { EditWhat } from '../../../../src-main/shared/library-types.ts';
import { i18n, t, type MessageKey } from '../../i18n/i18n.svelte.ts';

/**
 * An edit (or the one undo/redo would replay) in the UI language. Entries journaled before edits carried data
 * have only the server's English sentence, which is shown as it is.
 */
export function describeEdit(what: EditWhat | null, summary: string | null, typeName: (id: number) => string | null): string {
  if (!what) return summary ?? '';
  const count = 'count' in what ? i18n.number(what.count) : '';
  switch (what.kind) {
    case 'label':
      return what.typeId === null
        ? t('library.edit.unlabel', { count })
        : t('library.edit.label', { count, label: typeName(what.typeId) ?? what.typeName ?? String(what.typeId) });
    case 'coreType':
      return t('library.edit.coreType', { count, value: t(`library.core.${what.value}` as MessageKey) });
    case 'note':
      return t('library.edit.note', { id: what.imageId });
    case 'reviewState':
      return t('library.edit.reviewState', { count, value: t(`library.review.${what.value}` as MessageKey) });
    case 'groupKey':
      return what.value === null ? t('library.edit.groupReset', { count }) : t('library.edit.group', { count, value: what.value });
    case 'split':
      return t('library.edit.split', { count, value: t(`library.split.${what.value}` as MessageKey) });
    case 'regionAdd':
      return t(what.regionKind === 'mask' ? 'library.edit.maskAdd' : 'library.edit.boxAdd', { id: what.imageId });
    case 'regionEdit':
      return t('library.edit.regionEdit', { id: what.imageId });
    case 'regionDelete':
      return t('library.edit.regionDelete', { id: what.imageId });
  }
}
