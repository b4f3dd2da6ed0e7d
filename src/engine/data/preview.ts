import sharp from 'sharp'
import type { Dataset, DatasetPreview } from '../../shared'
import { NasError } from '../../shared'
import { loadDataset } from './load'
import { SPLIT_TRAIN } from './split-codes'
import { readCacheArrays, readCacheHeader, readCacheLabels, readCacheSamples, resolveCacheDir } from './cache'

/**
 * Previews: per class, the first `perClass` samples as small PNG data: URLs (images, at the input size; the
 * UI scales them up pixelated) or as rows of encoded features (tables, at most MAX_PREVIEW_COLUMNS).
 */

export const MAX_PREVIEW_COLUMNS = 24

async function pngDataUrl(pixels: Uint8Array, shape: number[]): Promise<string> {
  const [height, width, channels] = shape as [number, number, number]
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width, height, channels: channels as 1 | 3 | 4 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer()
  return `data:image/png;base64,${png.toString('base64')}`
}

/** Builds the preview of `dataset` (its cache folder from `cacheDir` or the dataset). */
export async function previewDataset(
  dataset: Dataset,
  opts: { perClass: number; cacheDir?: string },
): Promise<DatasetPreview> {
  const perClass = Math.max(1, opts.perClass)
  if (dataset.source === 'bundled') {
    const data = await loadDataset(dataset, { validationFraction: 0, seed: 0 })
    const size = data.inputShape.reduce((a, b) => a * b, 1)
    const classes = await Promise.all(
      data.classNames.map(async (name, c) => {
        const idx: number[] = []
        let count = 0
        for (let i = 0; i < data.train.count; i++) {
          if (data.train.y[i] !== c) continue
          count++
          if (idx.length < perClass) idx.push(i)
        }
        const thumbnails = await Promise.all(
          idx.map((i) => {
            const px = new Uint8Array(size)
            for (let j = 0; j < size; j++) px[j] = Math.round(data.train.x[i * size + j]! * 255)
            return pngDataUrl(px, data.inputShape)
          }),
        )
        return { name, count, thumbnails, rows: [] }
      }),
    )
    return { datasetId: dataset.id, kind: 'images', columns: [], classes }
  }
  const dir = resolveCacheDir(dataset, opts.cacheDir)
  const header = await readCacheHeader(dir)
  if (!header)
    throw new NasError(
      'dataset_error',
      `The decoded data of "${dataset.name}" is missing from ${dir}; import ${dataset.path} again`,
    )
  const labels = await readCacheLabels(dir, header)
  const picked = header.classNames.map(() => [] as number[])
  const counts = header.classNames.map(() => 0)
  // train samples first, so the preview shows what the search learns from
  const { split } =
    header.dtype === 'float32' || header.count < 200_000
      ? await readCacheArrays(dir, header)
      : { split: null }
  for (const pass of [0, 1]) {
    for (let i = 0; i < header.count; i++) {
      const c = labels[i]!
      if (pass === 0) counts[c]!++
      const isTrain = split === null || split[i] === SPLIT_TRAIN
      if ((pass === 0) === isTrain && picked[c]!.length < perClass) picked[c]!.push(i)
    }
  }
  const table = header.dtype === 'float32' && header.sampleShape.length === 1
  const classes = await Promise.all(
    header.classNames.map(async (name, c) => {
      const samples = await readCacheSamples(dir, header, picked[c]!)
      if (table) {
        const rows = samples.map((s) =>
          Array.from(s.subarray(0, MAX_PREVIEW_COLUMNS), (v) => Math.round(v * 1000) / 1000),
        )
        return { name, count: counts[c]!, thumbnails: [], rows }
      }
      const thumbnails = await Promise.all(
        samples.map((s) => pngDataUrl(s as Uint8Array, header.sampleShape)),
      )
      return { name, count: counts[c]!, thumbnails, rows: [] }
    }),
  )
  return {
    datasetId: dataset.id,
    kind: table ? 'table' : 'images',
    columns: table ? header.featureNames.slice(0, MAX_PREVIEW_COLUMNS) : [],
    classes,
  }
}
