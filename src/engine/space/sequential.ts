import type { ArchNode, Architecture, OpChoice, SequentialSpace } from '../../shared'
import { NasError } from '../../shared'
import type { Rng } from '../rng'
import type { SpaceFamily } from './family'
import { log10GeometricSum, oneHot, pickOther, scaled, sizeOf } from './family'

/**
 * The sequential layer-wise family: a chain input -> layers -> dense softmax classifier. Conventions:
 * conv2d/sepConv2d use 'same' padding (size -> ceil(size / stride)), maxPool2d/avgPool2d divide the size by
 * poolSize ('valid'); globalAvgPool flattens to the channels; a flatten is inserted before the first dense that
 * follows spatial ops and before the classifier when needed; once flat, spatial ops are no longer eligible,
 * and pool sizes that would shrink the map below 1x1 are skipped.
 */

type Layer = Exclude<ArchNode, { op: 'input' | 'flatten' }>

const SPATIAL: ReadonlySet<string> = new Set([
  'conv2d',
  'sepConv2d',
  'maxPool2d',
  'avgPool2d',
  'globalAvgPool',
])
const POOLS: ReadonlySet<string> = new Set(['maxPool2d', 'avgPool2d'])

function invalid(message: string): NasError {
  return new NasError('invalid_space', message)
}

/** The hyperparameters of an op choice, as [name, values] pairs (fixed order, used by encode and mutate). */
function params(c: OpChoice): Array<[string, readonly unknown[]]> {
  switch (c.op) {
    case 'dense':
      return [
        ['units', c.units],
        ['activation', c.activation],
      ]
    case 'conv2d':
    case 'sepConv2d':
      return [
        ['filters', c.filters],
        ['kernelSize', c.kernelSize],
        ['activation', c.activation],
        ['strides', c.strides ?? [1]],
      ]
    case 'maxPool2d':
    case 'avgPool2d':
      return [['poolSize', c.poolSize]]
    case 'dropout':
      return [['rate', c.rate]]
    case 'globalAvgPool':
    case 'batchNorm':
      return []
  }
}

function validate(def: SequentialSpace, inputShape?: number[]): void {
  if (def.ops.every((o) => POOLS.has(o.op))) {
    throw invalid('Search space has only maxPool2d/avgPool2d layers: add a dense or conv2d op')
  }
  const seen = new Set<string>()
  for (const op of def.ops) {
    if (seen.has(op.op)) throw invalid(`Search space lists op '${op.op}' twice: merge them`)
    seen.add(op.op)
  }
  if (inputShape !== undefined) {
    if (inputShape.length !== 3 && def.ops.every((o) => SPATIAL.has(o.op))) {
      throw invalid(
        `Search space uses only image ops (${def.ops.map((o) => o.op).join(', ')}) but the data has shape [${inputShape}]`,
      )
    }
    for (const op of def.ops) {
      if (POOLS.has(op.op) && inputShape.length === 3 && 'poolSize' in op) {
        const smallest = Math.min(...op.poolSize)
        if (smallest > Math.min(inputShape[0]!, inputShape[1]!)) {
          throw invalid(
            `${op.op} pool sizes ${op.poolSize.join(', ')} are all larger than the ${inputShape[0]}x${inputShape[1]} input`,
          )
        }
      }
    }
  }
}

/** Whether choice `c` can be a layer at a point whose spatial size is `spatial` (null once flat). */
function eligible(c: OpChoice, spatial: number[] | null): boolean {
  if (!SPATIAL.has(c.op)) return true
  if (spatial === null) return false
  return !('poolSize' in c) || c.poolSize.some((p) => p <= Math.min(spatial[0]!, spatial[1]!))
}

/** A concrete layer for choice `c` with every hyperparameter drawn uniformly (pool sizes that fit only). */
function concretise(c: OpChoice, rng: Rng, spatial: number[] | null, id: string): Layer {
  switch (c.op) {
    case 'dense':
      return { id, op: 'dense', units: rng.pick(c.units), activation: rng.pick(c.activation) }
    case 'conv2d':
    case 'sepConv2d': {
      const layer = {
        id,
        op: c.op,
        filters: rng.pick(c.filters),
        kernelSize: rng.pick(c.kernelSize),
        activation: rng.pick(c.activation),
      }
      return (c.strides ? { ...layer, strides: rng.pick(c.strides) } : layer) as Layer
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const fits = c.poolSize.filter((p) => spatial !== null && p <= Math.min(spatial[0]!, spatial[1]!))
      return { id, op: c.op, poolSize: rng.pick(fits) }
    }
    case 'globalAvgPool':
      return { id, op: 'globalAvgPool' }
    case 'dropout':
      return { id, op: 'dropout', rate: rng.pick(c.rate) }
    case 'batchNorm':
      return { id, op: 'batchNorm' }
  }
}

/** Spatial size after `layer` (null once flat). */
function after(layer: Layer, spatial: number[] | null): number[] | null {
  if (spatial === null) return null
  switch (layer.op) {
    case 'conv2d':
    case 'sepConv2d': {
      const s = layer.strides ?? 1
      return [Math.ceil(spatial[0]! / s), Math.ceil(spatial[1]! / s)]
    }
    case 'maxPool2d':
    case 'avgPool2d':
      return [Math.floor(spatial[0]! / layer.poolSize), Math.floor(spatial[1]! / layer.poolSize)]
    case 'globalAvgPool':
    case 'dense':
      return null
    default:
      return spatial
  }
}

/**
 * The chain for `layers`: flatten inserted before the first dense on spatial data and before the head, ids
 * renumbered n0, n1, ...; null when a layer does not fit where it stands (spatial op after flattening, pool
 * larger than the map).
 */
function assemble(layers: Layer[], inputShape: number[], numClasses: number): Architecture | null {
  const nodes: ArchNode[] = [{ id: 'n0', op: 'input' }]
  let spatial: number[] | null = inputShape.length === 3 ? [inputShape[0]!, inputShape[1]!] : null
  let flat = inputShape.length === 1
  for (const layer of layers) {
    if (SPATIAL.has(layer.op)) {
      if (spatial === null) return null
      if ('poolSize' in layer && layer.poolSize > Math.min(spatial[0]!, spatial[1]!)) return null
    }
    if (layer.op === 'dense' && !flat) {
      nodes.push({ id: `n${nodes.length}`, op: 'flatten' })
      spatial = null
      flat = true
    }
    nodes.push({ ...layer, id: `n${nodes.length}` })
    spatial = after(layer, spatial)
    if (layer.op === 'globalAvgPool') flat = true
  }
  if (!flat) nodes.push({ id: `n${nodes.length}`, op: 'flatten' })
  nodes.push({ id: `n${nodes.length}`, op: 'dense', units: numClasses, activation: 'softmax' })
  const edges: Array<[string, string]> = []
  for (let i = 1; i < nodes.length; i++) edges.push([nodes[i - 1]!.id, nodes[i]!.id])
  return { version: 1, nodes, edges, output: nodes[nodes.length - 1]!.id }
}

/**
 * Draws one architecture: depth uniform in [minLayers, maxLayers], each layer an op uniform among the ops that
 * fit at that point, each hyperparameter uniform among its values, then a dense softmax head of `numClasses`
 * units. Node ids are 'n0' (input), 'n1', ... in chain order. Deterministic given the rng state.
 */
function sample(def: SequentialSpace, rng: Rng, inputShape: number[], numClasses: number): Architecture {
  validate(def, inputShape)
  const layers: Layer[] = []
  let spatial: number[] | null = inputShape.length === 3 ? [inputShape[0]!, inputShape[1]!] : null
  const depth = rng.int(def.minLayers, def.maxLayers)
  for (let layer = 0; layer < depth; layer++) {
    const options = def.ops.filter((c) => eligible(c, spatial))
    if (options.length === 0) {
      throw invalid(`No op of this search space fits at layer ${layer + 1} for input [${inputShape}]`)
    }
    const made = concretise(rng.pick(options), rng, spatial, '')
    layers.push(made)
    spatial = after(made, spatial)
  }
  return assemble(layers, inputShape, numClasses)!
}

/** The layers of a sequential architecture (input, flatten and the head removed), in chain order. */
function layersOf(arch: Architecture): Layer[] {
  const body = arch.nodes.filter((n) => n.id !== arch.output && n.op !== 'input' && n.op !== 'flatten')
  return body as Layer[]
}

/**
 * One choice changed: a hyperparameter of one layer, the op of one layer (its hyperparameters drawn anew),
 * one layer more or one fewer (depth stays in range). Draws until the result fits the input (at most 50 tries;
 * returns a copy of `arch` when nothing else fits).
 */
function mutate(
  def: SequentialSpace,
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const layers = layersOf(arch)
  for (let attempt = 0; attempt < 50; attempt++) {
    const next = [...layers]
    const kind = rng.int(0, 3)
    const at = rng.int(0, Math.max(0, next.length - 1))
    const spatialGuess = inputShape.length === 3 ? [inputShape[0]!, inputShape[1]!] : null
    if (kind === 0 && next.length > 0) {
      const layer = next[at]!
      const c = def.ops.find((o) => o.op === layer.op)
      const options = c ? params(c).filter(([, v]) => v.length > 1) : []
      if (options.length === 0) continue
      const [name, values] = rng.pick(options)
      const current = (layer as Record<string, unknown>)[name]
      next[at] = { ...layer, [name]: pickOther(rng, values, current) } as Layer
    } else if (kind === 1 && next.length > 0) {
      const others = def.ops.filter((o) => o.op !== next[at]!.op)
      if (others.length === 0) continue
      next[at] = concretise(rng.pick(others), rng, spatialGuess, '')
    } else if (kind === 2 && next.length < def.maxLayers) {
      next.splice(rng.int(0, next.length), 0, concretise(rng.pick(def.ops), rng, spatialGuess, ''))
    } else if (kind === 3 && next.length > def.minLayers) {
      next.splice(at, 1)
    } else continue
    const built = assemble(next, inputShape, numClasses)
    if (built) return built
  }
  return assemble(layers, inputShape, numClasses) ?? arch
}

function encodingLength(def: SequentialSpace): number {
  const perSlot = 1 + def.ops.length + def.ops.reduce((n, c) => n + params(c).length, 0)
  return def.maxLayers * perSlot
}

/**
 * Per layer slot (maxLayers of them): present, one-hot of the op, then for every op choice the scaled index
 * of each of its hyperparameters (zeros for the ops this slot does not hold).
 */
function encode(def: SequentialSpace, arch: Architecture): number[] {
  const layers = layersOf(arch)
  const out: number[] = []
  for (let slot = 0; slot < def.maxLayers; slot++) {
    const layer = layers[slot]
    out.push(
      layer ? 1 : 0,
      ...oneHot(
        def.ops.map((o) => o.op),
        layer?.op,
      ),
    )
    for (const c of def.ops) {
      for (const [name, values] of params(c)) {
        const value = layer?.op === c.op ? (layer as Record<string, unknown>)[name] : undefined
        out.push(scaled(values, value ?? (name === 'strides' && layer?.op === c.op ? 1 : undefined)))
      }
    }
  }
  return out
}

/**
 * Number of distinct layer sequences: sum over depths d of (choices per layer)^d, where a layer's choices are
 * the sum over ops of the product of their value counts. An upper bound on distinct architectures (pools that
 * do not fit are skipped when sampling).
 */
function size(def: SequentialSpace): { count: number; log10: number } {
  const perLayer = def.ops.reduce((sum, c) => sum + params(c).reduce((p, [, v]) => p * v.length, 1), 0)
  let total = 0
  for (let d = def.minLayers; d <= def.maxLayers; d++) total += perLayer ** d
  return sizeOf(log10GeometricSum(perLayer, def.minLayers, def.maxLayers), total)
}

/** The sequential family (see the module comment). */
export const sequentialFamily: SpaceFamily<SequentialSpace> = {
  validate,
  size,
  sample,
  mutate,
  encode,
  encodingLength,
}
