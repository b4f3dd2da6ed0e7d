import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { NasError, type BackboneInfo } from '../../shared'
import type { EngineApi } from '../services/engine-facade'
import { catalogueBytes, type CatalogueItem } from './catalogue'
import { DownloadInterrupted, DownloadRefused, downloadVerified, sha256Of } from './download'
import type { BackboneStore } from './store'

/** Inputs of downloadCatalogueItem. */
export interface CatalogueDownloadOptions {
  store: BackboneStore
  inspect: NonNullable<EngineApi['inspectBackbone']>
  nowIso: () => string
  /** Bytes of all files present so far (verified files plus the one arriving). */
  onBytes: (received: number, total: number) => void
  signal?: AbortSignal
}

/**
 * Downloads every file of a catalogue item into <root>/.downloads/<id>/, each checked against its pinned
 * SHA-256, then checks the model and installs it as backbone <id>. A file already verified is not fetched
 * again; an interrupted one continues from its .part. On a checksum mismatch (or a model that is not what the
 * catalogue says) everything of this item is deleted, so nothing unverified ever stays in the data folder.
 */
export async function downloadCatalogueItem(
  item: CatalogueItem,
  opts: CatalogueDownloadOptions,
): Promise<BackboneInfo> {
  const total = catalogueBytes(item)
  if (total === null || item.missing !== null) {
    throw new NasError(
      'conflict',
      `${item.name} cannot be downloaded: ${item.missing ?? 'its sizes are unknown.'}`,
    )
  }
  const existing = opts.store.get(item.id)
  if (existing) return existing
  const dir = join(opts.store.root, '.downloads', item.id)
  let done = 0
  try {
    for (const file of item.files) {
      const dest = join(dir, file.path)
      await mkdir(dirname(dest), { recursive: true })
      if (!(existsSync(dest) && (await sha256Of(dest)) === file.sha256)) {
        await downloadVerified({
          url: file.url,
          dest,
          sha256: file.sha256!,
          bytes: file.bytes!,
          label: file.path,
          onBytes: (have) => opts.onBytes(done + have, total),
          ...(opts.signal ? { signal: opts.signal } : {}),
        })
      }
      done += file.bytes!
      opts.onBytes(done, total)
    }
    const found = await opts.inspect(dir)
    if (found.inputShape.join('x') !== item.inputShape.join('x')) {
      throw new DownloadRefused(
        `The downloaded model takes ${found.inputShape.join(' × ')} inputs, not ${item.inputShape.join(' × ')} as the catalogue says.`,
      )
    }
    const work = opts.store.workDir()
    await rm(work, { recursive: true })
    await rename(dir, work)
    return opts.store.install(work, {
      id: item.id,
      name: item.name,
      source: 'catalogue',
      origin: item.files[0]!.url,
      inputShape: found.inputShape,
      normalisation: item.normalisation,
      cutPoints: found.cutPoints,
      fineTunableBlocks: found.fineTunableBlocks,
      files: item.files.map((f) => ({ path: f.path, sha256: f.sha256!, bytes: f.bytes! })),
      sizeBytes: found.sizeBytes,
      createdAt: opts.nowIso(),
    })
  } catch (err) {
    if (opts.signal?.aborted) {
      throw new NasError(
        'cancelled',
        `The download of ${item.name} was cancelled; downloading it again continues where it stopped.`,
      )
    }
    if (err instanceof DownloadInterrupted) {
      throw new NasError(
        'conflict',
        `The download of ${item.name} stopped: ${err.message}. What arrived is kept; downloading it again continues where it stopped.`,
      )
    }
    await rm(dir, { recursive: true, force: true })
    if (err instanceof DownloadRefused) throw new NasError('bad_request', `${err.message} Nothing was kept.`)
    if (err instanceof NasError)
      throw new NasError(
        err.code,
        `The downloaded ${item.name} cannot be used: ${err.message} Nothing was kept.`,
      )
    throw err
  }
}
