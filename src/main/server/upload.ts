import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { NasError, UPLOAD_ID_PATTERN, WEB_MAX_UPLOAD_FILE_BYTES } from '../../shared'

/**
 * Path segments a browser may send: no empty, dot or dot-dot segments, no separators, no control
 * characters (C0, DEL and C1: `\p{Cc}`).
 */
const SEGMENT = /^(?!\.{1,2}$)[^/\\]{1,255}$/
const CONTROL = /\p{Cc}/u
const acceptableSegment = (s: string): boolean => SEGMENT.test(s) && !CONTROL.test(s)

/**
 * Resolves where an uploaded file goes: `<uploadsDir>/<uploadId>/<relPath>`. Rejects anything that could leave
 * the upload's folder (absolute paths, `..`, backslashes), since the path comes from the browser.
 */
export function uploadTarget(
  uploadsDir: string,
  uploadId: string,
  relPath: string,
): { root: string; file: string } {
  if (!UPLOAD_ID_PATTERN.test(uploadId)) {
    throw new NasError('bad_request', `Upload id "${uploadId}" is not valid (8-64 letters, digits, - or _).`)
  }
  const segments = relPath.split('/')
  if (segments.length > 32 || !segments.every(acceptableSegment)) {
    throw new NasError('bad_request', `"${relPath}" is not an acceptable file name for an upload.`)
  }
  const root = path.join(uploadsDir, uploadId)
  const file = path.join(root, ...segments)
  // Belt and braces: the joined path must still be inside the upload's folder.
  if (!file.startsWith(root + path.sep)) {
    throw new NasError('bad_request', `"${relPath}" would be written outside the upload folder.`)
  }
  return { root, file }
}

/**
 * Streams one request body to its upload target, at most WEB_MAX_UPLOAD_FILE_BYTES. Written to a temporary
 * name first and renamed when complete, so an interrupted upload never leaves a truncated file that an import
 * would then report as corrupt.
 */
export async function receiveUpload(
  req: IncomingMessage,
  uploadsDir: string,
  uploadId: string,
  relPath: string,
): Promise<{ root: string; bytes: number }> {
  const { root, file } = uploadTarget(uploadsDir, uploadId, relPath)
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > WEB_MAX_UPLOAD_FILE_BYTES) {
    req.resume()
    throw new NasError('bad_request', tooLarge(relPath))
  }
  try {
    await mkdir(path.dirname(file), { recursive: true })
  } catch (err) {
    throw saveError(err, relPath)
  }
  const partial = `${file}.part-${process.pid}`
  let bytes = 0
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > WEB_MAX_UPLOAD_FILE_BYTES) done(new NasError('bad_request', tooLarge(relPath)))
      else done(null, chunk)
    },
  })
  try {
    await pipeline(req, limit, createWriteStream(partial, { flags: 'wx' }))
    await rename(partial, file)
  } catch (err) {
    await rm(partial, { force: true })
    throw saveError(err, relPath)
  }
  return { root, bytes }
}

/**
 * A failed write as the person uploading can act on it. Only the name they sent appears: the server's own
 * paths (which a system error message carries) never leave the server.
 */
function saveError(err: unknown, relPath: string): NasError {
  if (err instanceof NasError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR')
    return new NasError(
      'bad_request',
      `${relPath} cannot be saved: a file and a folder of this upload have the same name. Rename one of them and upload again.`,
    )
  if (code === 'ENOSPC')
    return new NasError('storage_error', `The disk is full: ${relPath} could not be saved. Free some space.`)
  return new NasError(
    'storage_error',
    `Could not save the upload ${relPath} on the server${code ? ` (${code})` : ''}. Try again.`,
  )
}

function tooLarge(relPath: string): string {
  return `${relPath} is larger than ${WEB_MAX_UPLOAD_FILE_BYTES / (1024 * 1024)} MiB, the most one upload can be.`
}
