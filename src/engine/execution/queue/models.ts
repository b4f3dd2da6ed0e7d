import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { NasError } from '../../../shared'
import { MODEL_JSON } from '../../export/tfjs-files'
import type { DatasetFile } from './protocol'

/**
 * How a model trained by a queue worker reaches the app: the worker saves it in a temporary folder of its own
 * machine (the same TF.js files a local trial writes), puts every file into one Redis hash
 * (modelKey(trialId, attempt); field = file name, value = bytes) with an expiry and lists them with their
 * sha256 in the job result; the app checks each file against that list, writes them into the trial's model
 * folder and deletes the hash.
 */

/** Seconds an uploaded model stays in Redis when no app collects it (a closed app leaves no garbage). */
export const MODEL_TTL_S = 24 * 3600

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** A plain file name: a file list from Redis must not make the app write outside the model folder. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/**
 * The worker's side: puts every file of the saved model in `dir` into the Redis hash `key` (replacing what the
 * key held, atomically, expiring after MODEL_TTL_S) and returns the list the job result carries. Throws when
 * `dir` holds no saved model or Redis refuses the write.
 */
export async function uploadModel(redis: Redis, key: string, dir: string): Promise<DatasetFile[]> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort()
  } catch (err) {
    throw new NasError('internal', `The trained model was not saved (${(err as Error).message})`)
  }
  if (!names.includes(MODEL_JSON))
    throw new NasError('internal', `The trained model was not saved (no ${MODEL_JSON} in ${dir})`)
  const files: DatasetFile[] = []
  const fields: Record<string, Buffer> = {}
  for (const name of names) {
    const bytes = await readFile(path.join(dir, name))
    files.push({ name, sha256: sha256(bytes), bytes: bytes.length })
    fields[name] = bytes
  }
  // why: a refused command (e.g. NOPERM) aborts the whole transaction; its own error says why
  const refused = (err: Error & { previousErrors?: Error[] }): never => {
    const why = err.previousErrors?.map((e) => e.message).join('; ') || err.message
    throw new NasError('internal', `Redis did not store the model: ${why}`)
  }
  const replies = await redis
    .multi()
    .del(key)
    .hset(key, fields)
    .expire(key, MODEL_TTL_S)
    .exec()
    .catch(refused)
  const failed = replies?.find(([err]) => err !== null)?.[0]
  if (replies === null || failed) refused(failed ?? new Error('the transaction was aborted'))
  return files
}

/**
 * The app's side: reads the hash `key`, checks that it holds every file of `files` with the listed size and
 * sha256, and writes them into `dir` (atomically: a temporary folder renamed into place, replacing what `dir`
 * held). Throws a NasError saying what is missing or damaged (before touching `dir`). Does not delete `key`.
 */
export async function collectModel(
  redis: Redis,
  key: string,
  files: DatasetFile[],
  dir: string,
): Promise<void> {
  const unsafe = files.find((f) => !SAFE_NAME.test(f.name))
  if (unsafe !== undefined)
    throw new NasError(
      'internal',
      `The worker named a model file "${unsafe.name}", which is not a plain file name`,
    )
  if (!files.some((f) => f.name === MODEL_JSON))
    throw new NasError('internal', `The model the worker listed has no ${MODEL_JSON}`)
  const stored = await redis.hgetallBuffer(key)
  if (Object.keys(stored).length === 0)
    throw new NasError('internal', `The model is not in Redis (${key} expired or was deleted)`)
  for (const f of files) {
    const bytes = stored[f.name]
    if (bytes === undefined)
      throw new NasError('internal', `${f.name} of the model is missing in Redis (${key})`)
    if (bytes.length !== f.bytes || sha256(bytes) !== f.sha256)
      throw new NasError(
        'internal',
        `${f.name} of the model arrived damaged from Redis (${bytes.length} bytes, expected ${f.bytes} with the sha256 the worker listed)`,
      )
  }
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await mkdir(tmp, { recursive: true })
    for (const f of files) await writeFile(path.join(tmp, f.name), stored[f.name]!)
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
