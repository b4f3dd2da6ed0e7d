import type { ApiClient } from '@renderer/api'

/** One file the user chose, with its path relative to the chosen folder ("shapes/circles/a.png") or its name. */
export interface ChosenFile {
  relPath: string
  file: Blob
  /** The desktop app's local path of this file (preload's webUtils), or '' in a browser. */
  localPath: string
}

/** Turns an <input type="file"> selection into ChosenFiles, using the folder-relative path when there is one. */
export function chosenFiles(list: ArrayLike<File>, localPathOf?: (f: File) => string): ChosenFile[] {
  return Array.from(list, (f) => ({
    relPath: f.webkitRelativePath || f.name,
    file: f,
    localPath: localPathOf?.(f) ?? '',
  }))
}

/** The top folder of a folder selection ("shapes" for "shapes/circles/a.png"), or null for loose files. */
function topFolder(files: ChosenFile[]): string | null {
  const first = files[0]?.relPath ?? ''
  const slash = first.indexOf('/')
  return slash > 0 ? first.slice(0, slash) : null
}

/**
 * The name a person gave what they chose: the folder's ("shapes") or the one file's ("iris.csv"); several
 * loose files (e.g. the four IDX files) have none, so they are "Uploaded files".
 */
export function chosenName(files: ChosenFile[]): string {
  const top = topFolder(files)
  if (top !== null) return top
  if (files.length === 1) return files[0]!.relPath
  return 'Uploaded files'
}

function dirname(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'))
  return i > 0 ? p.slice(0, i) : p
}

/**
 * The path to import for a selection, where the desktop app knows local paths: the chosen folder itself, the
 * one chosen file, or the folder holding several chosen files (e.g. the four IDX files). Null in a browser.
 */
export function localImportPath(files: ChosenFile[]): string | null {
  const first = files[0]
  if (!first || !first.localPath) return null
  const top = topFolder(files)
  if (top !== null) {
    // localPath ends with relPath ("…/shapes/circles/a.png"); keep everything up to and including "shapes".
    const base = first.localPath.slice(0, first.localPath.length - first.relPath.length)
    return base + top
  }
  return files.length === 1 ? first.localPath : dirname(first.localPath)
}

/** A random upload id in the server's accepted alphabet. */
export function newUploadId(random: () => number = Math.random): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let id = 'up-'
  for (let i = 0; i < 16; i++) id += alphabet[Math.floor(random() * alphabet.length)]
  return id
}

/**
 * Web mode: uploads every chosen file to the server, one at a time (reporting progress after each), and returns
 * the server-side path to import: the uploaded folder, the one file, or the folder of several files.
 */
export async function uploadForImport(
  api: Pick<ApiClient, 'uploadFile'>,
  files: ChosenFile[],
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
  uploadId: string = newUploadId(),
): Promise<string> {
  if (!api.uploadFile) throw new Error('Uploads are only needed, and only possible, in web mode.')
  if (files.length === 0) throw new Error('No files were chosen.')
  let root = ''
  onProgress(0, files.length)
  for (const [i, f] of files.entries()) {
    if (signal?.aborted) throw new DOMException('Upload cancelled', 'AbortError')
    root = (await api.uploadFile(uploadId, f.relPath, f.file)).root
    onProgress(i + 1, files.length)
  }
  const top = topFolder(files)
  if (top !== null) return `${root}/${top}`
  return files.length === 1 ? `${root}/${files[0]!.relPath}` : root
}
