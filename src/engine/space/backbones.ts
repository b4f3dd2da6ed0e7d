import type { Architecture, BackboneInfo } from '../../shared'
import { NasError } from '../../shared'

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

/** The loaded backbone `id`; a plain-words error when it is not loaded. */
export function backboneById(id: string): LoadedBackbone {
  const b = registry.get(id)
  if (!b)
    throw new NasError(
      'invalid_space',
      `The backbone "${id}" is not available on this computer. Add it under Backbones (import a model or download one), then try again.`,
    )
  return b
}
