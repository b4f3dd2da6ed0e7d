import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Redis } from 'ioredis'
import type { Dataset } from '../../../shared'
import { NasError } from '../../../shared'
import { resolveCacheDir } from '../../data/cache'
import type { DatasetFile } from './protocol'
import { datasetKey } from './protocol'

/**
 * How a dataset reaches queue workers, by content: the app lists the dataset's files with their sha256 (the
 * decoded cache of an import, or the IDX files of the bundled sample) and puts them once into a Redis hash
 * named by the dataset's hash; a worker uses the same path if it can read it there with the same bytes (a
 * shared disk), else its own copy cached by hash, else fetches the files from Redis once and caches them.
 */

/** Seconds a dataset stays in Redis after it was last used by a run (refreshed on each run). */
const DATASET_TTL_S = 7 * 24 * 3600

const CACHE_FILES = ['header.json', 'x.bin', 'y.bin', 'split.bin']

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** The folder holding a dataset's files on this machine (may not exist here). */
function sourceDir(dataset: Dataset): string {
  return dataset.source === 'bundled' ? dataset.path : resolveCacheDir(dataset)
}

async function fileNames(dataset: Dataset, dir: string): Promise<string[]> {
  if (dataset.source !== 'bundled') return CACHE_FILES
  return (await readdir(dir)).filter((n) => /^(train|t10k)-(images|labels)/.test(n)).sort()
}

/**
 * The app's side: lists the dataset's files with their sha256 and makes sure Redis holds them (written once
 * per content hash; later runs only refresh the expiry). Returns the list the jobs carry.
 */
export async function publishDataset(redis: Redis, dataset: Dataset): Promise<DatasetFile[]> {
  const dir = sourceDir(dataset)
  let names: string[]
  try {
    names = await fileNames(dataset, dir)
  } catch (err) {
    throw new NasError(
      'dataset_error',
      `The files of dataset "${dataset.name}" cannot be read from ${dir}: ${(err as Error).message}`,
    )
  }
  const key = datasetKey(dataset.hash)
  const present = (await redis.exists(key)) === 1
  const files: DatasetFile[] = []
  const upload: Array<[string, Buffer]> = []
  for (const name of names) {
    const bytes = await readFile(path.join(dir, name)).catch((err: Error) => {
      throw new NasError(
        'dataset_error',
        `Dataset "${dataset.name}": ${path.join(dir, name)} cannot be read (${err.message}); import it again`,
      )
    })
    files.push({ name, sha256: sha256(bytes), bytes: bytes.length })
    if (!present) upload.push([name, bytes])
  }
  if (!present) {
    for (const [name, bytes] of upload) await redis.hset(key, name, bytes)
  }
  await redis.expire(key, DATASET_TTL_S)
  return files
}

/** True when `dir` holds every file with the expected bytes. */
async function holds(dir: string, files: DatasetFile[]): Promise<boolean> {
  for (const f of files) {
    try {
      const bytes = await readFile(path.join(dir, f.name))
      if (bytes.length !== f.bytes || sha256(bytes) !== f.sha256) return false
    } catch {
      return false
    }
  }
  return true
}

/** Where a worker found or put a dataset, and how. */
export interface LocalDataset {
  dataset: Dataset
  from: 'shared-path' | 'worker-cache' | 'redis'
}

/**
 * The worker's side: a copy of `dataset` with its path (bundled) or cacheDir (imports) pointing at files on
 * this machine whose bytes match `files`: the app's own folder when readable here, else
 * <cacheRoot>/<hash>, fetched from Redis into it when missing. Throws a dataset_error naming what is missing.
 */
export async function localDataset(
  redis: Redis,
  dataset: Dataset,
  files: DatasetFile[],
  cacheRoot: string,
): Promise<LocalDataset> {
  const place = (dir: string): Dataset =>
    dataset.source === 'bundled' ? { ...dataset, path: dir } : { ...dataset, cacheDir: dir }
  let shared: string | null = null
  try {
    shared = sourceDir(dataset)
  } catch {
    shared = null
  }
  if (shared !== null && (await holds(shared, files))) return { dataset: place(shared), from: 'shared-path' }
  const dir = path.join(cacheRoot, `${dataset.source === 'bundled' ? 'bundled-' : ''}${dataset.hash}`)
  if (await holds(dir, files)) return { dataset: place(dir), from: 'worker-cache' }
  const key = datasetKey(dataset.hash)
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await mkdir(tmp, { recursive: true })
  try {
    for (const f of files) {
      const bytes = await redis.hgetBuffer(key, f.name)
      if (bytes === null)
        throw new NasError(
          'dataset_error',
          `Dataset "${dataset.name}" is not in Redis (${f.name} missing) and not readable at ${shared ?? 'its path'}; start the run again from the app`,
        )
      if (sha256(bytes) !== f.sha256)
        throw new NasError(
          'dataset_error',
          `${f.name} of dataset "${dataset.name}" arrived damaged from Redis`,
        )
      await writeFile(path.join(tmp, f.name), bytes)
    }
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    // another job of this worker fetched the same data first
    if (await holds(dir, files)) return { dataset: place(dir), from: 'worker-cache' }
    throw err
  }
  return { dataset: place(dir), from: 'redis' }
}
