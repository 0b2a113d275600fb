/** The app's own folder and file browser (browser mode has no native dialog): types only. */

export interface DirectoryEntry {
  name: string;
  /** Absolute path. */
  path: string;
  isDir: boolean;
  /** Bytes (0 for folders). */
  size: number;
  /** Last modified, ISO 8601; null when the entry could not be inspected. */
  mtime: string | null;
  /** Folders only: false when it exists but cannot be opened (permissions); the browser does not go in. */
  readable: boolean;
}

export interface DirectoryRoot {
  path: string;
  /** 'home': the user's home folder; 'drive': a Windows drive letter; 'root': `/`. */
  kind: 'home' | 'drive' | 'root';
}

export interface ListDirectoryOptions {
  /** 'dir': only folders are listed (choosing a folder); 'file': folders and the files that match. */
  kind: 'dir' | 'file';
  /** For kind 'file': extensions without the dot, case-insensitive (empty or absent = every file). */
  extensions?: string[];
  /** Names starting with a dot (and Windows hidden system files like desktop.ini) are left out unless true. */
  showHidden?: boolean;
}

export interface DirectoryListing {
  /** The folder listed, absolute and normalised. */
  path: string;
  /** Its parent; null at a root. */
  parent: string | null;
  roots: DirectoryRoot[];
  /** Folders first, then files, each by name (natural order, case-insensitive). */
  entries: DirectoryEntry[];
  /** Set when the folder exists but its contents cannot be read: `entries` is then empty. */
  denied: boolean;
  /** True when the folder holds more entries than are listed (the first ones by name are). */
  truncated: boolean;
  /** Path separator of the machine the app runs on ('/' or '\\'). */
  sep: string;
}
