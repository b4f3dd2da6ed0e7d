import { copyFile, mkdir, rm, stat } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import {
  BACKBONE_MODEL_FILE,
  NasError,
  type BackboneInfo,
  type BackboneNormalisation,
  type BackboneSource,
} from '../../shared'
import type { BackboneInspection } from '../../engine'
import type { EngineApi } from '../services/engine-facade'
import type { BackboneStore } from './store'

/** What an import needs besides the files. */
export interface ImportModelOptions {
  store: BackboneStore
  inspect: NonNullable<EngineApi['inspectBackbone']>
  /** The backbone's name, or how to make it from what the check found. */
  name: string | ((found: BackboneInspection) => string)
  source: BackboneSource
  origin: string
  normalisation: BackboneNormalisation
  nowIso: () => string
}

/**
 * Where the model of a chosen path is: a .json file itself, or the model.json inside a chosen folder.
 * Errors name only what the person chose (its last part), never a folder of ours.
 */
export async function locateModel(path: string): Promise<{ dir: string; file: string; label: string }> {
  const label = basename(path) || path
  let isDir: boolean
  try {
    isDir = (await stat(path)).isDirectory()
  } catch {
    throw new NasError('bad_request', `"${label}" was not found. Pick a model.json and its weight files.`)
  }
  if (isDir) return { dir: path, file: BACKBONE_MODEL_FILE, label }
  if (extname(path).toLowerCase() !== '.json') {
    throw new NasError(
      'bad_request',
      `"${label}" is not a TF.js model: pick its model.json (together with its .bin weight files).`,
    )
  }
  return { dir: dirname(path), file: basename(path), label: basename(dirname(path)) || label }
}

/**
 * Checks the TF.js Layers model at `dir`/`file` as a backbone, copies it (model.json and the weight files it
 * names, nothing else) into a new backbone folder and describes it in backbone.json. The person's files are
 * only read; a refused model leaves nothing behind.
 */
export async function importModel(
  dir: string,
  file: string,
  opts: ImportModelOptions,
): Promise<BackboneInfo> {
  const found = await opts.inspect(dir, file)
  const name = typeof opts.name === 'string' ? opts.name : opts.name(found)
  const work = opts.store.workDir()
  try {
    await copyFile(join(dir, file), join(work, BACKBONE_MODEL_FILE))
    for (const p of found.weightPaths) {
      await mkdir(dirname(join(work, p)), { recursive: true })
      await copyFile(join(dir, p), join(work, p))
    }
    return opts.store.install(work, {
      id: opts.store.freeId(name),
      name,
      source: opts.source,
      origin: opts.origin,
      inputShape: found.inputShape,
      normalisation: opts.normalisation,
      cutPoints: found.cutPoints,
      fineTunableBlocks: found.fineTunableBlocks,
      sizeBytes: found.sizeBytes,
      createdAt: opts.nowIso(),
    })
  } catch (err) {
    await rm(work, { recursive: true, force: true })
    if (err instanceof NasError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSPC')
      throw new NasError('storage_error', 'The disk is full: the backbone could not be saved.')
    throw new NasError(
      'storage_error',
      `The backbone could not be saved${code ? ` (${code})` : ''}. Try again.`,
    )
  }
}
