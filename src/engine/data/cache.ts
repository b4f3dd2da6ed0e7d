import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Dataset, DatasetCheck } from '../../shared'
import type { ColumnEncoding } from './column-encoding'
import { NasError } from '../../shared'

/**
 * The decoded-data cache: <cacheRoot>/<hash>/ holds one imported dataset, decoded, in a form a trial worker
 * reads in well under a second:
 * - header.json  CacheHeader (shape, dtype, classes, split counts, the check)
 * - x.bin        all samples, row-major, little-endian: uint8 pixels (0-255) or float32 features
 * - y.bin        int32 class index per sample
 * - split.bin    uint8 per sample: 0 train, 1 validation (a split the data came with), 2 test
 * A folder is written under a temporary name and renamed into place, so a reader never sees half of one.
 */

/** Bumped when the layout or the decoding changes, so old caches are not read as new ones. */
export const CACHE_VERSION = 1

/** Everything about a cached dataset except its arrays. */
export interface CacheHeader {
  version: number
  hash: string
  count: number
  /** Shape of one sample: [height, width, channels] or [features]. */
  sampleShape: number[]
  dtype: 'uint8' | 'float32'
  classNames: string[]
  /** Encoded feature names of a table; empty for images. */
  featureNames: string[]
  /** How a table's raw columns became the features, for exports; absent for images and older caches. */
  columns?: ColumnEncoding[]
  /** The table's decimal separator (',' when the file is separated by ';'); absent for images. */
  decimalSeparator?: '.' | ','
  numTrain: number
  numValidation: number
  numTest: number
  split: 'fixed' | 'stratified'
  check: DatasetCheck
}

/** Decoded arrays of a dataset, as written to and read from the cache. */
export interface CachedArrays {
  x: Uint8Array | Float32Array
  y: Int32Array
  split: Uint8Array
}

/** Folder of the cache entry for `hash` under `cacheRoot`. */
export function cacheDirFor(cacheRoot: string, hash: string): string {
  return path.join(cacheRoot, hash)
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Writes one cache entry atomically (temp folder + rename); an entry that already exists is kept. */
export async function writeCache(
  cacheRoot: string,
  header: CacheHeader,
  arrays: CachedArrays,
): Promise<string> {
  const dir = cacheDirFor(cacheRoot, header.hash)
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await mkdir(tmp, { recursive: true })
  try {
    await writeFile(path.join(tmp, 'x.bin'), bytesOf(arrays.x))
    await writeFile(path.join(tmp, 'y.bin'), bytesOf(arrays.y))
    await writeFile(path.join(tmp, 'split.bin'), arrays.split)
    // header last: its presence marks a complete entry even if rename semantics differ
    await writeFile(path.join(tmp, 'header.json'), JSON.stringify(header))
    try {
      await rename(tmp, dir)
    } catch (err) {
      // another import of the same content finished first: its entry is identical
      if (!(await readCacheHeader(dir))) throw err
      await rm(tmp, { recursive: true, force: true })
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw new NasError(
      'storage_error',
      `Could not write the decoded data to ${dir}: ${(err as Error).message}. Check free disk space.`,
    )
  }
  return dir
}

/** The header of the cache entry in `dir`, or null when there is no complete entry of this CACHE_VERSION. */
export async function readCacheHeader(dir: string): Promise<CacheHeader | null> {
  try {
    const header = JSON.parse(await readFile(path.join(dir, 'header.json'), 'utf8')) as CacheHeader
    if (header.version !== CACHE_VERSION) return null
    const x = await stat(path.join(dir, 'x.bin'))
    const size = header.sampleShape.reduce((a, b) => a * b, 1) * (header.dtype === 'uint8' ? 1 : 4)
    return x.size === header.count * size ? header : null
  } catch {
    return null
  }
}

async function readExact(file: string, bytes: number): Promise<Buffer> {
  const buf = await readFile(file)
  if (buf.length !== bytes) {
    throw new NasError(
      'dataset_error',
      `${file} has ${buf.length} bytes, expected ${bytes}: the cache is damaged; import the data again`,
    )
  }
  return buf
}

/** Reads the arrays of the cache entry in `dir` (its header from readCacheHeader). */
export async function readCacheArrays(dir: string, header: CacheHeader): Promise<CachedArrays> {
  const size = header.sampleShape.reduce((a, b) => a * b, 1)
  const xBuf = await readExact(
    path.join(dir, 'x.bin'),
    header.count * size * (header.dtype === 'uint8' ? 1 : 4),
  )
  const yBuf = await readExact(path.join(dir, 'y.bin'), header.count * 4)
  const split = await readExact(path.join(dir, 'split.bin'), header.count)
  // readFile buffers may sit at an unaligned offset in a shared pool: copy when a typed view cannot be made
  const aligned = (b: Buffer): ArrayBuffer =>
    b.byteOffset % 4 === 0
      ? (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)
      : (new Uint8Array(b).buffer as ArrayBuffer)
  const x =
    header.dtype === 'uint8'
      ? new Uint8Array(xBuf.buffer, xBuf.byteOffset, xBuf.byteLength)
      : new Float32Array(aligned(xBuf))
  return { x, y: new Int32Array(aligned(yBuf)), split: new Uint8Array(split) }
}

/** Reads samples [index, index + 1) of x.bin without reading the whole file (previews). */
export async function readCacheSamples(
  dir: string,
  header: CacheHeader,
  indices: number[],
): Promise<Array<Uint8Array | Float32Array>> {
  const size = header.sampleShape.reduce((a, b) => a * b, 1)
  const bytes = size * (header.dtype === 'uint8' ? 1 : 4)
  const fh = await open(path.join(dir, 'x.bin'), 'r')
  try {
    const out: Array<Uint8Array | Float32Array> = []
    for (const i of indices) {
      const buf = new Uint8Array(bytes)
      await fh.read(buf, 0, bytes, i * bytes)
      out.push(header.dtype === 'uint8' ? buf : new Float32Array(buf.buffer))
    }
    return out
  } finally {
    await fh.close()
  }
}

/** Reads y.bin alone (previews pick samples per class). */
export async function readCacheLabels(dir: string, header: CacheHeader): Promise<Int32Array> {
  const buf = await readExact(path.join(dir, 'y.bin'), header.count * 4)
  return new Int32Array(new Uint8Array(buf).buffer)
}

/**
 * The cache folder a dataset's decoded data lives in: `cacheDir` when given (the caller knows the data
 * folder), else the dataset's own `cacheDir` (set by main for trial workers), else
 * $NAS_STUDIO_DATA_DIR/cache/<hash>. Throws a dataset_error when none is known.
 */
export function resolveCacheDir(dataset: Dataset, cacheDir?: string): string {
  if (cacheDir) return cacheDir
  if (dataset.cacheDir) return dataset.cacheDir
  const dataDir = process.env.NAS_STUDIO_DATA_DIR
  if (dataDir) return cacheDirFor(path.join(dataDir, 'cache'), dataset.hash)
  throw new NasError(
    'dataset_error',
    `Dataset "${dataset.name}" has no known cache folder; NAS Studio must pass its data folder to load it`,
  )
}
