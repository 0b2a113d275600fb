import type { ErrorName } from '../../../../src-main/shared/errors.ts';

/** Keys every error name must have: a title, and a hint saying what to do (the server's message is shown as detail). */
export type ErrorKeys = `error.${ErrorName}` | `error.${ErrorName}.hint`;

/** Error titles and what-to-do hints, by the error's name. */
export const errors = {
  'error.detail': 'Details',
  'error.NoProjectOpenError': 'No project is open',
  'error.NoProjectOpenError.hint': 'Open or create a project first, on the Projects screen.',
  'error.ProjectNotFoundError': 'Project folder not found',
  'error.ProjectNotFoundError.hint':
    'It may have been moved or renamed, or be on a drive that is not connected. Open it from its new place, or remove it from the list.',
  'error.NotAProjectError': 'This folder is not a Kensa project',
  'error.NotAProjectError.hint': 'Choose the folder that holds kensa.sqlite, or create a new project in an empty folder.',
  'error.ProjectExistsError': 'A project already exists here',
  'error.ProjectExistsError.hint': 'Open that project instead, or choose another folder for the new one.',
  'error.ProjectLockedError': 'The project is open in another Kensa',
  'error.ProjectLockedError.hint': 'Close it there first. A lock left behind by a Kensa that crashed is taken over automatically.',
  'error.ReadOnlyFolderError': 'Kensa cannot write to this folder',
  'error.ReadOnlyFolderError.hint': 'Choose a folder you can write to, or ask your administrator for write access.',
  'error.DatabaseTooNewError': 'This project was made by a newer Kensa',
  'error.DatabaseTooNewError.hint': 'Update Kensa to open it. The project was not changed.',
  'error.CorruptDatabaseError': 'The project catalog is damaged',
  'error.CorruptDatabaseError.hint':
    'Images and models in the project folder are untouched. Restore kensa.sqlite from a backup, or send the details below to your administrator.',
  'error.CorruptImageError': 'The image file is damaged',
  'error.CorruptImageError.hint': 'Copy or export the file again from the camera or its source. Other images are not affected.',
  'error.UnsupportedImageError': 'Unsupported image format',
  'error.UnsupportedImageError.hint': 'Kensa reads JPEG, PNG, BMP and TIFF. Convert the file to one of these.',
  'error.OutOfMemoryError': 'Out of memory',
  'error.OutOfMemoryError.hint': 'Close other programs, or choose a smaller input size or batch size, and try again. Nothing was lost.',
  'error.BackendUnavailableError': 'The compute engine could not start',
  'error.BackendUnavailableError.hint':
    'Click the backend in the status bar to see which ones work and why. "npx kensa doctor" prints a full report.',
  'error.ModelWeightsError': 'Pretrained weights are missing or do not match',
  'error.ModelWeightsError.hint': 'In Settings, add the folder that holds the MobileNet weights for the chosen backbone.',
  'error.CancelledError': 'Cancelled',
  'error.CancelledError.hint': 'What was finished before cancelling is kept.',
  'error.ValidationError': 'Invalid input',
  'error.ValidationError.hint': 'Check the value named in the details below.',
  'error.NotFoundError': 'Not found',
  'error.NotFoundError.hint': 'It may have been deleted meanwhile. Reload the screen.',
  'error.EngineCrashedError': 'The ML engine stopped unexpectedly',
  'error.EngineCrashedError.hint':
    'The catalog and saved models are safe; the engine restarts with the next job. If it happens again, try a smaller input size or batch size.',
  'error.ConflictError': 'Not possible right now',
  'error.ConflictError.hint': 'The details below say what has to change first.',
  'error.UnauthorizedError': 'This browser session is not signed in',
  'error.UnauthorizedError.hint': 'Open Kensa again from the address it printed when it started.',
  'error.FileExistsError': 'A file with this name already exists',
  'error.FileExistsError.hint': 'Nothing was written. Choose another name or folder, or confirm that the existing file may be replaced.',
  'error.PathNotFoundError': 'Folder or file not found',
  'error.PathNotFoundError.hint': 'Check the path for typing mistakes, or whether the drive or network share is connected.',
  'error.SettingsFileError': 'The settings file could not be read and was set aside',
  'error.SettingsFileError.hint':
    'Kensa started with default settings (keeping the values that were valid). The old file was kept beside the new one, as named below; choose your settings again on the Settings page.',
  'error.TilingUnsupportedError': 'Tiles cannot be used with this training setting yet',
  'error.TilingUnsupportedError.hint':
    'Training guided by regions and random augmentation do not work on tiles yet. Turn them off, or choose squash or letterbox.',
} satisfies Record<ErrorKeys | 'error.detail', string>;
