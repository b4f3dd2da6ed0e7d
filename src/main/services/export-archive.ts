import { readFile } from 'node:fs/promises'
import { basename, relative, sep } from 'node:path'
import { zipSync } from 'fflate'
import { NasError, type ExportArchive, type ExportRecord } from '../../shared'

/** Largest zip handed to a browser in one answer (exports of the networks NAS Studio trains are far smaller). */
const MAX_ARCHIVE_BYTES = 200 * 1024 * 1024

/** "shapes-search-onnx.zip": the run's name and the format, made safe as a file name. */
export function archiveFileName(runName: string, format: ExportRecord['format']): string {
  const base = runName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80)
  return `${base || 'nas-studio-export'}-${format}.zip`
}

/**
 * The export's files in one zip (paths inside it relative to the export's folder), for a browser's Download.
 * Throws a NasError naming the export, never its folder, when a file is gone.
 */
export async function archiveExport(record: ExportRecord, runName: string): Promise<ExportArchive> {
  const entries: Record<string, Uint8Array> = {}
  for (const file of record.files) {
    const inside = relative(record.outDir, file)
    const name = inside.startsWith('..') ? basename(file) : inside.split(sep).join('/')
    try {
      entries[name] = new Uint8Array(await readFile(file))
    } catch {
      throw new NasError(
        'not_found',
        `The ${record.format} export of "${runName}" is missing its file ${basename(file)}; export it again.`,
      )
    }
  }
  // dated when the export was made, not when it was zipped: the same export always gives the same bytes
  const zip = zipSync(entries, { level: 6, mtime: new Date(record.createdAt) })
  if (zip.byteLength > MAX_ARCHIVE_BYTES) {
    throw new NasError(
      'bad_request',
      `The ${record.format} export is too large to download through the browser.`,
    )
  }
  return {
    fileName: archiveFileName(runName, record.format),
    base64: Buffer.from(zip).toString('base64'),
    sizeBytes: zip.byteLength,
  }
}
