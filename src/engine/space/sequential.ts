import type { ArchNode, Architecture, OpChoice, SequentialSlot, SequentialSpace } from '../../shared'
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
  if (def.slots) validateSlots(def, def.slots)
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

/**
 * Ordered spaces: each slot's ops are distinct op kinds whose values are among the space's `ops` of that kind
 * (so the per-position encoding over `ops` covers them), and minLayers / maxLayers are the slots' sums.
 */
function validateSlots(def: SequentialSpace, slots: readonly SequentialSlot[]): void {
  slots.forEach((slot, i) => {
    const where = `Layer slot ${i + 1}`
    if (slot.min > slot.max) throw invalid(`${where}: min ${slot.min} is larger than max ${slot.max}`)
    const seen = new Set<string>()
    for (const c of slot.ops) {
      if (seen.has(c.op)) throw invalid(`${where} lists op '${c.op}' twice: merge them`)
      seen.add(c.op)
      const all = def.ops.find((o) => o.op === c.op)
      if (!all) throw invalid(`${where} uses op '${c.op}', which the space's ops do not list`)
      const allParams = new Map(params(all))
      for (const [name, values] of params(c)) {
        if (values.length === 0) throw invalid(`${where}: '${c.op}' has no ${name} to choose from`)
        const known = allParams.get(name) ?? []
        const extra = values.filter((v) => !known.includes(v))
        if (extra.length) {
          throw invalid(`${where}: ${c.op} ${name} ${extra.join(', ')} not among the space's ops values`)
        }
      }
    }
  })
  const lo = Math.max(
    1,
    slots.reduce((n, s) => n + s.min, 0),
  )
  const hi = slots.reduce((n, s) => n + s.max, 0)
  if (def.minLayers !== lo || def.maxLayers !== hi) {
    throw invalid(
      `minLayers/maxLayers (${def.minLayers}/${def.maxLayers}) must be the slots' sums (${lo}/${hi}) in an ordered space`,
    )
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
  if (def.slots) return sampleSlots(def, def.slots, rng, inputShape, numClasses)
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

/**
 * Ordered spaces: each slot draws its count uniformly in [min, max] (drawn again, at most 100 times, when all
 * slots drew 0 and the total is below minLayers), each layer an op of its slot that fits there, each value
 * uniform. A layer that no op of its slot fits is an invalid_space error naming the slot.
 */
function sampleSlots(
  def: SequentialSpace,
  slots: readonly SequentialSlot[],
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  let counts = slots.map((s) => rng.int(s.min, s.max))
  for (let i = 0; i < 100 && counts.reduce((a, b) => a + b, 0) < def.minLayers; i++) {
    counts = slots.map((s) => rng.int(s.min, s.max))
  }
  const layers: Layer[] = []
  let spatial: number[] | null = inputShape.length === 3 ? [inputShape[0]!, inputShape[1]!] : null
  slots.forEach((slot, i) => {
    for (let k = 0; k < counts[i]!; k++) {
      const options = slot.ops.filter((c) => eligible(c, spatial))
      if (options.length === 0) {
        throw invalid(
          `No op of layer slot ${i + 1} (${slot.ops.map((o) => o.op).join(', ')}) fits there for input [${inputShape}]: an image op cannot follow a dense layer, and pools need a large enough map`,
        )
      }
      const made = concretise(rng.pick(options), rng, spatial, '')
      layers.push(made)
      spatial = after(made, spatial)
    }
  })
  return assemble(layers, inputShape, numClasses)!
}

/** Whether `layer` is one of `slot`'s choices (its op listed there, every value among the slot's values). */
function fitsSlot(layer: Layer, slot: SequentialSlot): boolean {
  const c = slot.ops.find((o) => o.op === layer.op)
  if (!c) return false
  return params(c).every(([name, values]) => {
    const v = (layer as Record<string, unknown>)[name]
    return values.includes(v ?? (name === 'strides' ? 1 : undefined))
  })
}

/**
 * Which slot each layer belongs to (slot indices, non-decreasing), so that every slot holds [min, max] of
 * them; null when the layers cannot come from the ordered space.
 */
export function assignSlots(layers: readonly Layer[], slots: readonly SequentialSlot[]): number[] | null {
  const memo = new Map<string, number[] | null>()
  // layers[i..] into slots[j..], with `used` layers already in slot j
  const go = (i: number, j: number, used: number): number[] | null => {
    if (j === slots.length) return i === layers.length ? [] : null
    const key = `${i},${j},${used}`
    if (memo.has(key)) return memo.get(key)!
    let found: number[] | null = null
    if (used >= slots[j]!.min) {
      const rest = go(i, j + 1, 0)
      if (rest) found = rest
    }
    if (!found && i < layers.length && used < slots[j]!.max && fitsSlot(layers[i]!, slots[j]!)) {
      const rest = go(i + 1, j, used + 1)
      if (rest) found = [j, ...rest]
    }
    memo.set(key, found)
    return found
  }
  return go(0, 0, 0)
}

/** Ordered spaces: like `mutate`, but every change stays inside a slot's ops, values and [min, max]. */
function mutateSlots(
  def: SequentialSpace,
  slots: readonly SequentialSlot[],
  arch: Architecture,
  rng: Rng,
  inputShape: number[],
  numClasses: number,
): Architecture {
  const layers = layersOf(arch)
  const owner = assignSlots(layers, slots)
  if (!owner) return sampleSlots(def, slots, rng, inputShape, numClasses)
  const spatialGuess = inputShape.length === 3 ? [inputShape[0]!, inputShape[1]!] : null
  for (let attempt = 0; attempt < 50; attempt++) {
    const next = [...layers]
    const kind = rng.int(0, 3)
    const at = rng.int(0, Math.max(0, next.length - 1))
    if (kind <= 1 && next.length > 0) {
      const slot = slots[owner[at]!]!
      const layer = next[at]!
      if (kind === 0) {
        const c = slot.ops.find((o) => o.op === layer.op)
        const options = c ? params(c).filter(([, v]) => v.length > 1) : []
        if (options.length === 0) continue
        const [name, values] = rng.pick(options)
        const current = (layer as Record<string, unknown>)[name]
        next[at] = { ...layer, [name]: pickOther(rng, values, current) } as Layer
      } else {
        const others = slot.ops.filter((o) => o.op !== layer.op)
        if (others.length === 0) continue
        next[at] = concretise(rng.pick(others), rng, spatialGuess, '')
      }
    } else if (kind >= 2) {
      const counts = slots.map((_, j) => owner.filter((o) => o === j).length)
      const j = rng.int(0, slots.length - 1)
      const end = owner.filter((o) => o <= j).length
      if (kind === 2 && counts[j]! < slots[j]!.max) {
        next.splice(end, 0, concretise(rng.pick(slots[j]!.ops), rng, spatialGuess, ''))
      } else if (kind === 3 && counts[j]! > slots[j]!.min && next.length > def.minLayers) {
        next.splice(end - 1, 1)
      } else continue
    } else continue
    const built = assemble(next, inputShape, numClasses)
    if (built) return built
  }
  return assemble(layers, inputShape, numClasses) ?? arch
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
  if (def.slots) return mutateSlots(def, def.slots, arch, rng, inputShape, numClasses)
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
  if (def.slots) {
    // product over slots of sum over counts c in [min, max] of (choices per layer)^c
    let log10 = 0
    let exact = 1
    for (const slot of def.slots) {
      const per = slot.ops.reduce((sum, c) => sum + params(c).reduce((p, [, v]) => p * v.length, 1), 0)
      log10 += log10GeometricSum(per, slot.min, slot.max)
      let sum = 0
      for (let d = slot.min; d <= slot.max; d++) sum += per ** d
      exact *= sum
    }
    return sizeOf(log10, exact < 2 ** 53 ? exact : undefined)
  }
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
