import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Architecture, BackboneInfo } from '../../shared'
import { BACKBONE_INFO_FILE, NasError, backboneInfoSchema } from '../../shared'

/**
 * The backbones this process has loaded: their description, their graph in our IR (node ids = the backbone's
 * layer names) and their pretrained weights as plain arrays. The backbone space family builds architectures
 * from the graphs; model building copies the weights in. Loading from disk lives in evaluate/backbone-load.ts.
 */

/** Plain weight arrays by layer name, then by weight name (kernel, bias, gamma, ...). */
export type BackboneWeights = Map<string, Record<string, { shape: number[]; data: Float32Array }>>

export interface LoadedBackbone {
  info: BackboneInfo
  arch: Architecture
  weights: BackboneWeights
  /** Changes whenever a backbone is registered again under the same id (caches key on it). */
  generation: number
}

/** Prefix of the node ids a backbone's layers get inside an architecture (the head's ids are n0, n1, ...). */
export const BACKBONE_NODE_PREFIX = 'bb_'

const registry = new Map<string, LoadedBackbone>()
let generations = 0

/** Makes a loaded backbone available under its id (replacing one loaded before). */
export function registerBackbone(b: Omit<LoadedBackbone, 'generation'>): LoadedBackbone {
  const entry = { ...b, generation: ++generations }
  registry.set(b.info.id, entry)
  return entry
}

/** Forgets a backbone (e.g. deleted from the data folder). */
export function forgetBackbone(id: string): void {
  registry.delete(id)
}

/** The loaded backbone `id`, or undefined. */
export function findBackbone(id: string): LoadedBackbone | undefined {
  return registry.get(id)
}

let dirOf: ((id: string) => string | undefined) | null = null

/** Tells the engine where backbone folders are (main's store: one folder per id). */
export function setBackboneDirs(resolve: (id: string) => string | undefined): void {
  dirOf = resolve
}

/** The folder of backbone `id`, when the engine was told where backbones are. */
export function backboneDir(id: string): string | undefined {
  return dirOf?.(id)
}

function notAvailable(id: string): NasError {
  return new NasError(
    'invalid_space',
    `The backbone "${id}" is not available on this computer. Add it under Backbones (import a model or download one), then try again.`,
  )
}

/**
 * The description of backbone `id`: of the loaded one, else read from its folder's backbone.json (checking a
 * space needs no weights). A plain-words error when there is none.
 */
export function backboneInfoOf(id: string): BackboneInfo {
  const loaded = registry.get(id)
  if (loaded) return loaded.info
  const dir = dirOf?.(id)
  if (dir) {
    try {
      const parsed = backboneInfoSchema.safeParse(
        JSON.parse(readFileSync(path.join(dir, BACKBONE_INFO_FILE), 'utf8')),
      )
      if (parsed.success) return parsed.data
    } catch {
      // no folder or no readable description: not available
    }
  }
  throw notAvailable(id)
}

/** The loaded backbone `id`; a plain-words error when it is not loaded. */
export function backboneById(id: string): LoadedBackbone {
  const b = registry.get(id)
  if (!b) throw notAvailable(id)
  return b
}

/** Throws in plain words when images of `shape` cannot become the backbone's input; else nothing. */
export function checkBackboneInput(shape: readonly number[], info: BackboneInfo): void {
  if (shape.length !== 3)
    throw new NasError(
      'invalid_space',
      `The backbone "${info.name}" works on images; this data is not images (its samples are ${shape.join(' x ')} values).`,
    )
  const c = shape[2]!
  const want = info.inputShape[2]
  if (c !== want && !([1, 3].includes(c) && [1, 3].includes(want)))
    throw new NasError(
      'invalid_space',
      `The backbone "${info.name}" takes images with ${want} channel${want === 1 ? '' : 's'}; this data has ${c}, which cannot be converted (only grey and colour can).`,
    )
}
