/**
 * The one way the UI asks for a path: the native dialog in the desktop app, the app's own folder/file browser
 * (file-browser.svelte, served through `listDirectory`) in browser mode. Each purpose reopens where it was left.
 */
import { mount, unmount } from 'svelte';
import { t, type MessageKey } from '../i18n/i18n.svelte.ts';
import { api } from '../lib/api.ts';
import { app } from '../state/app.svelte.ts';
import FileBrowser from './file-browser.svelte';

export type FolderPurpose = 'project' | 'import' | 'weights' | 'export' | 'annotations';
export type FilesPurpose = 'import' | 'csv' | 'model' | 'annotations';

const EXTENSIONS: Record<FilesPurpose, string[]> = {
  import: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff'],
  csv: ['csv'],
  model: ['json'],
  annotations: ['json'],
};

/** The folder each purpose last ended in (this session), and the last one of any purpose. */
const lastFolder = new Map<string, string>();
let lastAny: string | null = null;

interface BrowseOptions {
  mode: 'dir' | 'file';
  multiple: boolean;
  extensions: string[];
  title: string;
  key: string;
}

function browse(o: BrowseOptions): Promise<string[] | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (paths: string[] | null, folder?: string): void => {
      if (done) return;
      done = true;
      if (folder) {
        lastFolder.set(o.key, folder);
        lastAny = folder;
      }
      // Unmount after the click that chose has finished bubbling through the component.
      queueMicrotask(() => void unmount(comp));
      resolve(paths);
    };
    const comp = mount(FileBrowser, {
      target: document.body,
      props: {
        mode: o.mode,
        multiple: o.multiple,
        extensions: o.extensions,
        start: lastFolder.get(o.key) ?? lastAny,
        title: o.title,
        onpick: (paths: string[], folder: string) => finish(paths, folder),
        oncancel: () => finish(null),
      },
    });
  });
}

/** A folder for `purpose`; null when cancelled. */
export async function chooseFolder(purpose: FolderPurpose): Promise<string | null> {
  if (app.info?.nativeDialogs) return (await app.guard(() => api.pickFolder(purpose))) ?? null;
  const got = await browse({
    mode: 'dir',
    multiple: false,
    extensions: [],
    title: t(`files.title.folder.${purpose}` as MessageKey),
    key: `dir:${purpose}`,
  });
  return got?.[0] ?? null;
}

/** Files for `purpose` (several when `multiple`); null when cancelled. */
export async function chooseFiles(purpose: FilesPurpose, opts: { multiple?: boolean } = {}): Promise<string[] | null> {
  const multiple = opts.multiple ?? purpose === 'import';
  if (app.info?.nativeDialogs) {
    const got = (await app.guard(() => api.pickFiles(purpose))) ?? null;
    return got && !multiple ? got.slice(0, 1) : got;
  }
  return browse({
    mode: 'file',
    multiple,
    extensions: EXTENSIONS[purpose],
    title: t(`files.title.files.${purpose}` as MessageKey),
    key: `file:${purpose}`,
  });
}
