import type { EditWhat } from './library-types.ts';

const images = (n: number): string => (n === 1 ? '1 image' : `${n.toLocaleString('en')} images`);

/** The English sentence for an edit (journal, CLI, and the fallback for entries without data). */
export function editSummaryEn(w: EditWhat): string {
  switch (w.kind) {
    case 'label':
      return w.typeId === null
        ? `Clear the label of ${images(w.count)}`
        : `Label ${images(w.count)} as ${w.typeName ?? `type ${w.typeId}`}`;
    case 'coreType':
      return `Set core type of ${images(w.count)} to ${w.value}`;
    case 'note':
      return `Edit the note of image ${w.imageId}`;
    case 'reviewState':
      return `Mark ${images(w.count)} ${w.value}`;
    case 'groupKey':
      return w.value === null ? `Reset the group of ${images(w.count)}` : `Put ${images(w.count)} in group ${w.value}`;
    case 'split':
      return `Move ${images(w.count)} to ${w.value}`;
    case 'regionAdd':
      return `Add a ${w.regionKind} to image ${w.imageId}`;
    case 'regionEdit':
      return `Edit a region of image ${w.imageId}`;
    case 'regionDelete':
      return `Delete a region of image ${w.imageId}`;
  }
}
