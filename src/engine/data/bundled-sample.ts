import { createHash } from 'node:crypto'
import { access } from 'node:fs/promises'
import path from 'node:path'
import type { Dataset } from '../../shared'
import { NasError } from '../../shared'
import type { IdxArray } from './idx'
import { readIdxFile } from './idx'
import type { DataPart, LoadedData } from './loaded-data'
import { stratifiedSplit } from './split'

/** The ten Fashion-MNIST classes, in label order 0-9. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]

interface IdxPair {
  images: IdxArray
  labels: IdxArray
}

/** Folder of the bundled sample inside the app's resources folder. */
export function bundledSamplePath(resourcesDir: string): string {
  return path.join(resourcesDir, 'sample', 'fashion-mnist')
}

async function findFile(dir: string, base: string): Promise<string> {
  for (const name of [`${base}.gz`, base]) {
    const file = path.join(dir, name)
    try {
      await access(file)
      return file
    } catch {
      // try the next spelling
    }
  }
  throw new NasError(
    'dataset_error',
    `${dir} has no ${base} or ${base}.gz (IDX image/label files expected)`,
    {
      dir,
    },
  )
}

async function readPair(dir: string, prefix: 'train' | 't10k'): Promise<IdxPair> {
  const imagesFile = await findFile(dir, `${prefix}-images-idx3-ubyte`)
  const labelsFile = await findFile(dir, `${prefix}-labels-idx1-ubyte`)
  const images = await readIdxFile(imagesFile)
  const labels = await readIdxFile(labelsFile)
  if (images.dims.length < 2) {
    throw new NasError(
      'dataset_error',
      `${path.basename(imagesFile)} has 1 dimension; images need at least 2`,
    )
  }
  if (labels.dims.length !== 1) {
    throw new NasError(
      'dataset_error',
      `${path.basename(labelsFile)} has ${labels.dims.length} dimensions, expected 1`,
    )
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new NasError(
      'dataset_error',
      `${path.basename(imagesFile)} has ${images.dims[0]} images but ${path.basename(labelsFile)} has ${labels.dims[0]} labels`,
    )
  }
  return { images, labels }
}

function hashPairs(pairs: IdxPair[]): string {
  const hash = createHash('sha256')
  for (const { images, labels } of pairs) {
    for (const arr of [images, labels]) {
      hash.update(`${arr.dtype}:${arr.dims.join('x')};`)
      hash.update(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength))
    }
  }
  return hash.digest('hex')
}

/** [height, width, channels] of an IDX image array (a 3-D array is one channel). */
function imageShape(images: IdxArray): number[] {
  const rest = images.dims.slice(1)
  return rest.length === 2 ? [...rest, 1] : rest
}

/**
 * Describes the bundled Fashion-MNIST sample under `resourcesDir` (the app's resources folder) for the
 * dataset table: reads and validates the files and hashes their decoded content (sha256 hex).
 */
export async function describeBundledDataset(
  resourcesDir: string,
): Promise<Omit<Dataset, 'id' | 'createdAt'>> {
  const dir = bundledSamplePath(resourcesDir)
  const train = await readPair(dir, 'train')
  const test = await readPair(dir, 't10k')
  const total = train.labels.dims[0]! + test.labels.dims[0]!
  return {
    name: `Fashion-MNIST sample (${total.toLocaleString('en-US')} images)`,
    source: 'bundled',
    path: dir,
    hash: hashPairs([train, test]),
    inputShape: imageShape(train.images),
    classNames: [...FASHION_MNIST_CLASSES],
    numTrain: train.labels.dims[0]!,
    numTest: test.labels.dims[0]!,
  }
}

function toPart(pair: IdxPair, indices: number[] | null, numClasses: number, file: string): DataPart {
  const size = pair.images.dims.slice(1).reduce((a, b) => a * b, 1)
  const count = indices === null ? pair.labels.dims[0]! : indices.length
  const x = new Float32Array(count * size)
  const y = new Int32Array(count)
  const scale = pair.images.dtype === 'uint8' ? 1 / 255 : 1
  for (let k = 0; k < count; k++) {
    const i = indices === null ? k : indices[k]!
    const label = Number(pair.labels.data[i])
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new NasError(
        'dataset_error',
        `Label ${label} of sample ${i + 1} in ${file} is outside 0-${numClasses - 1} (the dataset has ${numClasses} classes)`,
      )
    }
    y[k] = label
    const src = pair.images.data
    for (let j = 0, o = i * size, d = k * size; j < size; j++) x[d + j] = Number(src[o + j]) * scale
  }
  return { x, y, count }
}

/**
 * Loads the bundled sample from its IDX files (a folder with train-/t10k- image and label files): pixels scaled
 * to [0, 1] (uint8 / 255), the training file split stratified by `seed` into train and validation, the t10k
 * file as test. Its content is checked against `dataset.hash` so a changed file is reported.
 */
export async function loadBundledSample(
  dataset: Dataset,
  opts: { validationFraction: number; seed: number },
): Promise<LoadedData> {
  const train = await readPair(dataset.path, 'train')
  const test = await readPair(dataset.path, 't10k')
  if (dataset.hash && hashPairs([train, test]) !== dataset.hash) {
    throw new NasError(
      'dataset_error',
      `The files of dataset "${dataset.name}" in ${dataset.path} changed since it was added; add it again`,
    )
  }
  const shape = imageShape(train.images)
  if (shape.join('x') !== dataset.inputShape.join('x')) {
    throw new NasError(
      'dataset_error',
      `Images in ${dataset.path} are ${shape.join('x')} but the dataset says ${dataset.inputShape.join('x')}`,
    )
  }
  const numClasses = dataset.classNames.length
  const split = stratifiedSplit(train.labels.data, opts.validationFraction, opts.seed)
  return {
    inputShape: shape,
    classNames: [...dataset.classNames],
    numClasses,
    train: toPart(train, split.train, numClasses, 'train labels'),
    validation: toPart(train, split.validation, numClasses, 'train labels'),
    test: toPart(test, null, numClasses, 't10k labels'),
  }
}
