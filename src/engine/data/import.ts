import { createHash } from 'node:crypto'
import type { Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Dataset, DatasetImportOptions, DatasetImportRequest, DatasetKind } from '../../shared'
import { NasError } from '../../shared'
import type { CacheHeader } from './cache'
import { CACHE_VERSION, cacheDirFor, readCacheHeader, writeCache } from './cache'
import { SPLIT_TEST, SPLIT_VALIDATION } from './split-codes'
import { assignStratifiedTest, dropEmptyClasses, finishCheck } from './check'
import { prepareCsv } from './csv'
import { DEFAULT_IMAGE_SIZE, ownImageSize, prepareImageFolder } from './images'
import { prepareIdx } from './idx-import'
import type { ProgressFn, Reader, ReaderContext } from './reader'
import { throwIfAborted } from './reader'

/**
 * Importing a dataset: detect the kind, fingerprint the source, and either reuse the decoded cache
 * (<cacheRoot>/<hash>/, keyed by the source bytes + options) or decode, check and cache it.
 */

/** Default fraction of each class held out as the test split when the data comes without one. */
export const DEFAULT_TEST_FRACTION = 0.15

const READERS: Record<DatasetKind, Reader> = { images: prepareImageFolder, csv: prepareCsv, idx: prepareIdx }
const SOURCE_OF: Record<DatasetKind, Dataset['source']> = { images: 'image-folder', csv: 'csv', idx: 'idx' }
const IDX_NAME = /idx\d[-_.]ubyte(\.gz)?$/i
const TABLE_NAME = /\.(csv|tsv|txt)$/i

/** What an import gives back: the dataset (less id/createdAt) and where its decoded data is. */
export interface ImportedDataset {
  dataset: Omit<Dataset, 'id' | 'createdAt'>
  cacheDir: string
  fromCache: boolean
}

/** Where to cache, and the import's cancellation and progress. */
export interface ImportDatasetOptions {
  /** <dataDir>/cache */
  cacheRoot: string
  signal?: AbortSignal
  onProgress?: ProgressFn
}

async function statOrFail(p: string): Promise<Stats> {
  try {
    return await stat(p)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new NasError(
      'dataset_error',
      code === 'ENOENT'
        ? `${p} does not exist. Give the full path of a folder or file on the computer running NAS Studio.`
        : `${p} cannot be opened (${code ?? String(err)})`,
    )
  }
}

/** Guesses what `source` holds: a CSV file, IDX files, or a folder of class folders of images. */
export async function detectKind(source: string): Promise<DatasetKind> {
  const s = await statOrFail(source)
  const base = path.basename(source)
  if (s.isFile()) {
    if (IDX_NAME.test(base)) return 'idx'
    if (TABLE_NAME.test(base)) return 'csv'
    throw new NasError(
      'dataset_error',
      `${base} is neither a CSV table (.csv, .tsv, .txt) nor an IDX file; for images choose the folder that holds one subfolder per class`,
    )
  }
  const entries = await readdir(source, { withFileTypes: true })
  if (entries.some((e) => e.isFile() && IDX_NAME.test(e.name))) return 'idx'
  if (entries.some((e) => e.isDirectory() && !e.name.startsWith('.'))) return 'images'
  const tables = entries.filter((e) => e.isFile() && TABLE_NAME.test(e.name))
  if (tables.length > 0)
    throw new NasError(
      'dataset_error',
      `${source} holds ${tables
        .map((t) => t.name)
        .slice(0, 3)
        .join(', ')}: choose the CSV file itself, not its folder`,
    )
  throw new NasError(
    'dataset_error',
    `${source} has no class folders, CSV or IDX files. An image dataset is a folder with one subfolder per class.`,
  )
}

/** The options an import runs with: the request's, with defaults filled in per kind. */
export function resolveImportOptions(req: DatasetImportRequest, kind: DatasetKind): DatasetImportOptions {
  return {
    kind,
    inputSize: kind === 'csv' ? null : (req.inputSize ?? (kind === 'images' ? DEFAULT_IMAGE_SIZE : null)),
    labelColumn: kind === 'csv' ? (req.labelColumn ?? null) : null,
    testFraction: req.testFraction ?? DEFAULT_TEST_FRACTION,
    seed: req.seed ?? 0,
  }
}

function datasetFrom(
  header: CacheHeader,
  abs: string,
  name: string,
  options: DatasetImportOptions,
): Omit<Dataset, 'id' | 'createdAt'> {
  return {
    name,
    source: SOURCE_OF[options.kind],
    path: abs,
    hash: header.hash,
    inputShape: header.sampleShape,
    classNames: header.classNames,
    numTrain: header.numTrain,
    ...(header.numValidation > 0 ? { numValidation: header.numValidation } : {}),
    numTest: header.numTest,
    split: header.split,
    check: header.check,
    importOptions: options,
  }
}

/**
 * Imports the folder or file `req.path`: bad files are listed in the check and skipped, never fatal; only a
 * source with nothing usable (no classes, one class, no rows) throws a dataset_error naming it. Throws
 * NasError('cancelled') when `signal` aborts. A second import of the same bytes with the same options reads
 * only the source's bytes (to hash them) and the cache header.
 */
export async function importDataset(
  req: DatasetImportRequest,
  opts: ImportDatasetOptions,
): Promise<ImportedDataset> {
  const abs = path.resolve(req.path)
  const ctx: ReaderContext = {
    progress: opts.onProgress ?? (() => undefined),
    ...(opts.signal ? { signal: opts.signal } : {}),
  }
  const kind = req.kind ?? (await detectKind(abs))
  await statOrFail(abs)
  // images keep their own size when they all share one small size (28 x 28 stays 28 x 28); else 32 x 32
  const ownSize =
    kind === 'images' && req.inputSize === undefined ? await ownImageSize(abs, opts.signal) : null
  const options = resolveImportOptions(ownSize !== null ? { ...req, inputSize: ownSize } : req, kind)
  const prepared = await READERS[kind](abs, options, ctx)
  throwIfAborted(opts.signal)
  const hash = createHash('sha256')
    .update(`nas-studio-cache-v${CACHE_VERSION}|${JSON.stringify(options)}|${prepared.sourceHash}`)
    .digest('hex')
  const dir = cacheDirFor(opts.cacheRoot, hash)
  const name = req.name ?? prepared.name
  const cached = await readCacheHeader(dir)
  if (cached) return { dataset: datasetFrom(cached, abs, name, options), cacheDir: dir, fromCache: true }

  const decoded = await prepared.decode(ctx)
  throwIfAborted(opts.signal)
  ctx.progress('Checking', 0, 0)
  const { classNames, y } = dropEmptyClasses(
    decoded.classNames,
    decoded.y,
    decoded.issues,
    path.basename(abs),
  )
  const split = decoded.split
  if (split.includes(255)) assignStratifiedTest(y, split, options.testFraction, options.seed)
  const check = finishCheck({
    classNames,
    y,
    split,
    issues: decoded.issues,
    skipped: decoded.skipped,
    sampleKeys: decoded.sampleKeys,
    names: decoded.names,
  })
  let numValidation = 0
  let numTest = 0
  for (const s of split) {
    if (s === SPLIT_VALIDATION) numValidation++
    else if (s === SPLIT_TEST) numTest++
  }
  const header: CacheHeader = {
    version: CACHE_VERSION,
    hash,
    count: y.length,
    sampleShape: decoded.sampleShape,
    dtype: decoded.dtype,
    classNames,
    featureNames: decoded.featureNames,
    ...(decoded.columns ? { columns: decoded.columns } : {}),
    ...(decoded.decimalSeparator ? { decimalSeparator: decoded.decimalSeparator } : {}),
    numTrain: y.length - numValidation - numTest,
    numValidation,
    numTest,
    split: decoded.fixedSplit ? 'fixed' : 'stratified',
    check,
  }
  ctx.progress('Saving the decoded data', 0, 0)
  await writeCache(opts.cacheRoot, header, { x: decoded.x, y, split })
  return { dataset: datasetFrom(header, abs, name, options), cacheDir: dir, fromCache: false }
}
