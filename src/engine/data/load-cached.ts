import type { Dataset } from '../../shared'
import { NasError } from '../../shared'
import type { DataPart, LoadedData } from './loaded-data'
import { SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION } from './split-codes'
import { readCacheArrays, readCacheHeader, resolveCacheDir } from './cache'
import { stratifiedSplit } from './split'

/**
 * Loads an imported dataset from its decoded cache: pixels (uint8) scaled to [0, 1], table features as
 * stored (already standardised). Validation is the split the data came with when it has one, else a
 * stratified `validationFraction` of train chosen by `seed`. The test split is returned apart, for the final
 * evaluation only.
 */
export async function loadCachedDataset(
  dataset: Dataset,
  opts: { validationFraction: number; seed: number; cacheDir?: string },
): Promise<LoadedData> {
  const dir = resolveCacheDir(dataset, opts.cacheDir)
  const header = await readCacheHeader(dir)
  if (!header) {
    throw new NasError(
      'dataset_error',
      `The decoded data of dataset "${dataset.name}" is missing from ${dir}; import ${dataset.path} again`,
      { dir },
    )
  }
  if (header.hash !== dataset.hash) {
    throw new NasError(
      'dataset_error',
      `The cache in ${dir} belongs to other data than dataset "${dataset.name}"; import it again`,
    )
  }
  const { x, y, split } = await readCacheArrays(dir, header)
  const size = header.sampleShape.reduce((a, b) => a * b, 1)
  const train: number[] = []
  let validation: number[] = []
  const test: number[] = []
  for (let i = 0; i < header.count; i++) {
    if (split[i] === SPLIT_TRAIN) train.push(i)
    else if (split[i] === SPLIT_VALIDATION) validation.push(i)
    else if (split[i] === SPLIT_TEST) test.push(i)
  }
  let trainIdx = train
  if (validation.length === 0) {
    const parts = stratifiedSplit(
      train.map((i) => y[i]!),
      opts.validationFraction,
      opts.seed,
    )
    trainIdx = parts.train.map((k) => train[k]!)
    validation = parts.validation.map((k) => train[k]!)
  }
  const scale = header.dtype === 'uint8' ? 1 / 255 : 1
  const part = (indices: number[]): DataPart => {
    const px = new Float32Array(indices.length * size)
    const py = new Int32Array(indices.length)
    indices.forEach((i, k) => {
      py[k] = y[i]!
      const o = i * size
      const d = k * size
      for (let j = 0; j < size; j++) px[d + j] = x[o + j]! * scale
    })
    return { x: px, y: py, count: indices.length }
  }
  return {
    inputShape: [...header.sampleShape],
    classNames: [...header.classNames],
    numClasses: header.classNames.length,
    train: part(trainIdx),
    validation: part(validation),
    test: part(test),
  }
}
