import { createHash } from 'node:crypto'
import type { ArchNode, Architecture, OpChoice, SearchSpaceDef } from '../../shared'
import { NasError, searchSpaceDefSchema } from '../../shared'
import type { Rng } from '../rng'
import { inferShapes, inputsOf, nodeParams, topoOrder } from './shapes'

/**
 * The sequential layer-wise search space: a chain input -> layers -> dense softmax classifier. Conventions:
 * conv2d keeps height/width ('same' padding), maxPool2d divides them by poolSize; a flatten is inserted before
 * the first dense that follows spatial ops and before the classifier when needed; once flattened, spatial ops
 * (conv2d, maxPool2d) are no longer eligible, and pool sizes that would shrink the map below 1x1 are skipped.
 */

const SPATIAL: ReadonlySet<string> = new Set(['conv2d', 'maxPool2d'])

/**
 * Checks a search space definition, throwing NasError('invalid_space') with a precise message: the zod schema
 * (layer bounds, non-empty ops and choice lists), then meaning: a space of only maxPool2d layers, or, when
 * `inputShape` is given, spatial ops on non-image input or pools that can never fit the image.
 */
export function validateSpace(def: SearchSpaceDef, inputShape?: number[]): void {
  const parsed = searchSpaceDefSchema.safeParse(def)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? issue.path.join('.') : 'space'
    throw new NasError('invalid_space', `Search space is invalid at ${where}: ${issue.message}`)
  }
  if (def.ops.every((o) => o.op === 'maxPool2d')) {
    throw new NasError('invalid_space', 'Search space has only maxPool2d layers: add a dense or conv2d op')
  }
  const seen = new Set<string>()
  for (const op of def.ops) {
    if (seen.has(op.op))
      throw new NasError('invalid_space', `Search space lists op '${op.op}' twice: merge them`)
    seen.add(op.op)
  }
  if (inputShape !== undefined) {
    if (inputShape.length !== 3 && def.ops.every((o) => SPATIAL.has(o.op))) {
      throw new NasError(
        'invalid_space',
        `Search space uses only image ops (conv2d, maxPool2d) but the data has shape [${inputShape}]`,
      )
    }
    for (const op of def.ops) {
      if (op.op === 'maxPool2d' && inputShape.length === 3) {
        const smallest = Math.min(...op.poolSize)
        if (smallest > Math.min(inputShape[0]!, inputShape[1]!)) {
          throw new NasError(
            'invalid_space',
            `maxPool2d pool sizes ${op.poolSize.join(', ')} are all larger than the ${inputShape[0]}x${inputShape[1]} input`,
          )
        }
      }
    }
  }
}

/** Which concrete layer op choice `c` can be at this point of the chain (null when none fits). */
function concretise(c: OpChoice, rng: Rng, spatial: number[] | null, id: string): ArchNode | null {
  switch (c.op) {
    case 'dense':
      return { id, op: 'dense', units: rng.pick(c.units), activation: rng.pick(c.activation) }
    case 'conv2d':
      if (spatial === null) return null
      return {
        id,
        op: 'conv2d',
        filters: rng.pick(c.filters),
        kernelSize: rng.pick(c.kernelSize),
        activation: rng.pick(c.activation),
      }
    case 'maxPool2d': {
      if (spatial === null) return null
      const fits = c.poolSize.filter((p) => p <= Math.min(spatial[0]!, spatial[1]!))
      return fits.length === 0 ? null : { id, op: 'maxPool2d', poolSize: rng.pick(fits) }
    }
    case 'dropout':
      return { id, op: 'dropout', rate: rng.pick(c.rate) }
    case 'batchNorm':
      return { id, op: 'batchNorm' }
  }
}

function eligible(c: OpChoice, spatial: number[] | null): boolean {
  if (!SPATIAL.has(c.op)) return true
  if (spatial === null) return false
  return c.op !== 'maxPool2d' || c.poolSize.some((p) => p <= Math.min(spatial[0]!, spatial[1]!))
}

/**
 * Draws one architecture: depth uniform in [minLayers, maxLayers], each layer an op uniform among the ops that
 * fit at that point, each hyperparameter uniform among its values, then a dense softmax head of `numClasses`
 * units. Node ids are 'n0' (input), 'n1', ... in chain order. Deterministic given the rng state.
 */
export function sampleArchitecture(
  def: SearchSpaceDef,
  rng: Rng,
  inputShape: number[],
  numClasses = 10,
): Architecture {
  validateSpace(def, inputShape)
  const nodes: ArchNode[] = [{ id: 'n0', op: 'input' }]
  const add = (make: (id: string) => ArchNode): void => {
    nodes.push(make(`n${nodes.length}`))
  }
  let spatial: number[] | null = inputShape.length === 3 ? [...inputShape] : null
  let flat = inputShape.length === 1
  const depth = rng.int(def.minLayers, def.maxLayers)
  for (let layer = 0; layer < depth; layer++) {
    const options = def.ops.filter((c) => eligible(c, spatial))
    if (options.length === 0) {
      throw new NasError(
        'invalid_space',
        `No op of this search space fits at layer ${layer + 1} for input [${inputShape}]`,
      )
    }
    const choice = rng.pick(options)
    if (choice.op === 'dense' && !flat) {
      add((id) => ({ id, op: 'flatten' }))
      spatial = null
      flat = true
    }
    const node = concretise(choice, rng, spatial, `n${nodes.length}`)!
    nodes.push(node)
    if (node.op === 'maxPool2d' && spatial !== null) {
      spatial = [
        Math.floor(spatial[0]! / node.poolSize),
        Math.floor(spatial[1]! / node.poolSize),
        spatial[2]!,
      ]
    }
  }
  if (!flat) add((id) => ({ id, op: 'flatten' }))
  add((id) => ({ id, op: 'dense', units: numClasses, activation: 'softmax' }))
  const edges: Array<[string, string]> = []
  for (let i = 1; i < nodes.length; i++) edges.push([nodes[i - 1]!.id, nodes[i]!.id])
  return { version: 1, nodes, edges, output: nodes[nodes.length - 1]!.id }
}

/** JSON with object keys sorted, so equal values always serialise to the same text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** Stable identity of an architecture: sha256 hex of its canonical JSON (key order does not matter). */
export function archHash(arch: Architecture): string {
  return createHash('sha256').update(canonicalJson(arch)).digest('hex')
}

/**
 * Number of weights of the network built from `arch` for inputs of `inputShape` (trainable and non-trainable,
 * as tf's model.countParams()). When `numClasses` is given, the classifier head is counted with that many units.
 */
export function countParams(arch: Architecture, inputShape: number[], numClasses?: number): number {
  const head = arch.nodes.find((n) => n.id === arch.output)
  const effective: Architecture =
    numClasses !== undefined && head?.op === 'dense'
      ? { ...arch, nodes: arch.nodes.map((n) => (n === head ? { ...head, units: numClasses } : n)) }
      : arch
  const shapes = inferShapes(effective, inputShape)
  let total = 0
  for (const node of topoOrder(effective)) {
    if (node.op === 'input') continue
    total += nodeParams(node, shapes.get(inputsOf(effective, node.id)[0]!)!)
  }
  return total
}

/**
 * Number of distinct layer sequences the space describes: sum over depths d of (choices per layer)^d, where a
 * layer's choices are the sum over ops of the product of their value counts. An upper bound on distinct
 * architectures (pools that do not fit are skipped when sampling); may be Infinity for huge spaces.
 */
export function spaceSize(def: SearchSpaceDef): number {
  const perLayer = def.ops.reduce((sum, c) => {
    switch (c.op) {
      case 'dense':
        return sum + c.units.length * c.activation.length
      case 'conv2d':
        return sum + c.filters.length * c.kernelSize.length * c.activation.length
      case 'maxPool2d':
        return sum + c.poolSize.length
      case 'dropout':
        return sum + c.rate.length
      case 'batchNorm':
        return sum + 1
    }
  }, 0)
  let total = 0
  for (let d = def.minLayers; d <= def.maxLayers; d++) total += perLayer ** d
  return total
}
