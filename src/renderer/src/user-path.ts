/**
 * Paths as a person knows them. In web mode a chosen folder is copied to the server's data folder
 * (<data folder>/uploads/up-<16 letters or digits>/<the folder's own name>), and the import, its dataset and
 * its errors carry that internal path; a person only ever chose "shapes". These helpers cut the internal part.
 */

/** The server-side folder of one upload, up to and including its id (and the separator after it). */
const UPLOAD_ROOT = /[^\s"'“”()]*[\\/]uploads[\\/]up-[a-z0-9]{16}(?:[\\/]|(?=[\s"'“”(),.:;]|$))/g
/** NAS Studio's decoded copy of a dataset: <data folder>/cache/<64-digit hash>[/file]. */
const CACHE_PATH = /[^\s"'“”()]*[\\/]cache[\\/][0-9a-f]{64}(?:[\\/][^\s"'“”(),;:]*)?/g

/** `text` (a path or a message) with internal upload and cache paths replaced by what the person chose. */
export function userPath(text: string): string {
  return text.replace(UPLOAD_ROOT, '').replace(CACHE_PATH, "NAS Studio's copy of the data")
}

/** True when `path` is a web-mode upload (not a folder on the person's own computer). */
export function isUploadPath(path: string): boolean {
  return new RegExp(UPLOAD_ROOT.source).test(path)
}
