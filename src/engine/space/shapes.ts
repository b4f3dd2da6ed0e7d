import type { ArchNode, Architecture } from '../../shared'
import { NasError } from '../../shared'

/**
 * Graph helpers, validation and shape inference for architectures (any family). Conventions shared with
 * build-model.ts: conv2d / sepConv2d / depthwiseConv2d use 'same' padding (size -> ceil(size / stride)) unless
 * they say 'valid' (floor((size - kernel) / stride) + 1); zeroPad adds its rows and columns;
 * maxPool2d / avgPool2d default to 'valid' padding with stride = poolSize (floor((size - pool) / stride) + 1),
 * or 'same' (ceil(size / stride)); batchNorm normalises the last axis; add needs equal shapes; concat joins
 * the last axis and needs equal other dimensions; zero keeps its input's shape (strided like a conv).
 */

function invalid(message: string, details?: Record<string, unknown>): NasError {
  return new NasError('invalid_space', message, details)
}

/** Nodes in a topological order (inputs before the nodes that use them); throws naming a node on a cycle. */
export function topoOrder(arch: Architecture): ArchNode[] {
  const byId = new Map<string, ArchNode>()
  for (const n of arch.nodes) {
    if (byId.has(n.id)) throw invalid(`Architecture has two nodes with id '${n.id}'`, { node: n.id })
    byId.set(n.id, n)
  }
  const indegree = new Map(arch.nodes.map((n) => [n.id, 0]))
  const next = new Map<string, string[]>()
  for (const [from, to] of arch.edges) {
    for (const end of [from, to]) {
      if (!byId.has(end)) {
        throw invalid(`Architecture edge ${from} -> ${to} names node '${end}', which does not exist`, {
          node: end,
        })
      }
    }
    indegree.set(to, indegree.get(to)! + 1)
    const list = next.get(from)
    if (list) list.push(to)
    else next.set(from, [to])
  }
  const ready = arch.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id)
  const order: ArchNode[] = []
  for (let head = 0; head < ready.length; head++) {
    const id = ready[head]!
    order.push(byId.get(id)!)
    for (const to of next.get(id) ?? []) {
      indegree.set(to, indegree.get(to)! - 1)
      if (indegree.get(to) === 0) ready.push(to)
    }
  }
  if (order.length !== arch.nodes.length) {
    const stuck = arch.nodes.find((n) => indegree.get(n.id)! > 0)!
    throw invalid(`Architecture graph has a cycle through node '${stuck.id}' (${stuck.op})`, {
      node: stuck.id,
    })
  }
  return order
}

/** Ids of the nodes feeding each node, in edge order. */
export function inputsByNode(arch: Architecture): Map<string, string[]> {
  const ins = new Map<string, string[]>(arch.nodes.map((n) => [n.id, []]))
  for (const [from, to] of arch.edges) ins.get(to)?.push(from)
  return ins
}

/** Ids of the nodes feeding `id`, in edge order. */
export function inputsOf(arch: Architecture, id: string): string[] {
  return arch.edges.filter(([, to]) => to === id).map(([from]) => from)
}

const SPATIAL_OPS: ReadonlySet<string> = new Set([
  'conv2d',
  'sepConv2d',
  'depthwiseConv2d',
  'maxPool2d',
  'avgPool2d',
  'globalAvgPool',
  'zeroPad',
])

/** Output size of a 'same'-padded strided window op. */
const sameSize = (size: number, stride: number): number => Math.ceil(size / stride)

/** Output size of an unpadded ('valid') window op; null when the window does not fit. */
function validSize(size: number, window: number, stride: number): number | null {
  const out = Math.floor((size - window) / stride) + 1
  return size < window || out < 1 ? null : out
}

/** [h, w] after a convolution with `padding` (default 'same'); throws when a 'valid' kernel does not fit. */
function convSize(
  node: Extract<ArchNode, { op: 'conv2d' | 'sepConv2d' | 'depthwiseConv2d' }>,
  h: number,
  w: number,
): [number, number] {
  const s = node.strides ?? 1
  if ((node.padding ?? 'same') === 'same') return [sameSize(h, s), sameSize(w, s)]
  const k = (node.kernelSize - 1) * (node.op === 'depthwiseConv2d' ? (node.dilation ?? 1) : 1) + 1
  const oh = validSize(h, k, s)
  const ow = validSize(w, k, s)
  if (oh === null || ow === null)
    throw invalid(`${node.op} (${node.id}) with kernel ${k} and no padding cannot shrink a ${h}x${w} map`, {
      node: node.id,
    })
  return [oh, ow]
}

/** Output shape (without the batch axis) of one node given the shapes of its inputs (in edge order). */
export function nodeOutputShape(node: ArchNode, inputs: number[][]): number[] {
  const where = `${node.op} (${node.id})`
  const arity = node.op === 'input' ? 0 : node.op === 'add' || node.op === 'concat' ? -1 : 1
  if (arity === 1 && inputs.length !== 1) {
    throw invalid(`${where} has ${inputs.length} inputs; it needs exactly 1`, { node: node.id })
  }
  if (arity === -1 && inputs.length < 2) {
    throw invalid(`${where} has ${inputs.length} input(s); a merge needs at least 2`, { node: node.id })
  }
  const input = inputs[0] ?? []
  if (SPATIAL_OPS.has(node.op) && input.length !== 3) {
    throw invalid(`${where} needs a [height, width, channels] input, got [${input}]`, { node: node.id })
  }
  const [h, w, c] = input as [number, number, number]
  switch (node.op) {
    case 'input':
      throw invalid(`${where} cannot have inputs`, { node: node.id })
    case 'dropout':
    case 'batchNorm':
    case 'activation':
    case 'relu':
    case 'identity':
      return input
    case 'zeroPad': {
      const [top, bottom, left, right] = node.padding
      return [h + top + bottom, w + left + right, c]
    }
    case 'zero': {
      const s = node.strides ?? 1
      return input.length === 3 ? [sameSize(h, s), sameSize(w, s), c] : input
    }
    case 'flatten':
      return [input.reduce((a, b) => a * b, 1)]
    case 'dense':
      if (input.length !== 1) {
        throw invalid(`dense (${node.id}) needs a flat input, got [${input}]: add a flatten`, {
          node: node.id,
        })
      }
      return [node.units]
    case 'conv2d':
    case 'sepConv2d':
      return [...convSize(node, h, w), node.filters]
    case 'depthwiseConv2d':
      return [...convSize(node, h, w), c]
    case 'maxPool2d':
    case 'avgPool2d': {
      const s = node.strides ?? node.poolSize
      if (node.padding === 'same') return [sameSize(h, s), sameSize(w, s), c]
      const oh = Math.floor((h - node.poolSize) / s) + 1
      const ow = Math.floor((w - node.poolSize) / s) + 1
      if (h < node.poolSize || w < node.poolSize || oh < 1 || ow < 1) {
        throw invalid(`${node.op} (${node.id}) with pool ${node.poolSize} cannot shrink a ${h}x${w} map`, {
          node: node.id,
        })
      }
      return [oh, ow, c]
    }
    case 'globalAvgPool':
      return [c]
    case 'add': {
      for (const other of inputs) {
        if (other.join('x') !== input.join('x')) {
          throw invalid(
            `add (${node.id}) joins inputs of different shapes [${input}] and [${other}]: project them to one shape first`,
            { node: node.id },
          )
        }
      }
      return input
    }
    case 'concat': {
      let channels = 0
      for (const other of inputs) {
        if (other.length !== input.length || other.slice(0, -1).join('x') !== input.slice(0, -1).join('x')) {
          throw invalid(
            `concat (${node.id}) joins inputs [${input}] and [${other}] whose sizes differ outside the channel axis`,
            { node: node.id },
          )
        }
        channels += other[other.length - 1]!
      }
      return [...input.slice(0, -1), channels]
    }
  }
}

/** Number of weights (trainable and not) a node adds, given its first input's shape; equals tf.js's count. */
export function nodeParams(node: ArchNode, input: number[]): number {
  const cin = input[input.length - 1] ?? 0
  switch (node.op) {
    case 'dense':
      return input[0]! * node.units + node.units
    case 'conv2d':
      return (
        node.kernelSize * node.kernelSize * cin * node.filters + (node.useBias === false ? 0 : node.filters)
      )
    case 'sepConv2d':
      return (
        node.kernelSize * node.kernelSize * cin +
        cin * node.filters +
        (node.useBias === false ? 0 : node.filters)
      )
    case 'depthwiseConv2d':
      return node.kernelSize * node.kernelSize * cin + (node.useBias === false ? 0 : cin)
    case 'batchNorm':
      // gamma, beta, moving mean, moving variance per channel
      return 4 * cin
    default:
      return 0
  }
}

/**
 * Multiply-accumulate operations of one node for one sample, given its input and output shapes: convolutions
 * and dense layers only (biases, pooling, normalisation and merges are not counted).
 */
export function nodeFlops(node: ArchNode, input: number[], output: number[]): number {
  const cin = input[input.length - 1] ?? 0
  const spatial = output.length === 3 ? output[0]! * output[1]! : 1
  switch (node.op) {
    case 'dense':
      return input[0]! * node.units
    case 'conv2d':
      return spatial * node.kernelSize * node.kernelSize * cin * node.filters
    case 'sepConv2d':
      return spatial * (node.kernelSize * node.kernelSize * cin + cin * node.filters)
    case 'depthwiseConv2d':
      return spatial * node.kernelSize * node.kernelSize * cin
    default:
      return 0
  }
}

/**
 * The shape the network takes: its input node's own shape when it has one (a pretrained backbone's input size;
 * the data is resized to it), else the data's.
 */
export function networkInputShape(arch: Architecture, dataShape: number[]): number[] {
  const input = arch.nodes.find((n) => n.op === 'input')
  return input?.op === 'input' && input.shape ? input.shape : dataShape
}

/**
 * Checks an architecture and returns every node's output shape by id: unique ids, exactly one input node,
 * edges naming existing nodes, no cycle, the output exists, every node reaches the output and is reached from
 * the input, and every op gets inputs it can use. Errors name the node.
 */
export function inferShapes(arch: Architecture, dataShape: number[]): Map<string, number[]> {
  const inputShape = networkInputShape(arch, dataShape)
  const order = topoOrder(arch)
  const inputs = arch.nodes.filter((n) => n.op === 'input')
  if (inputs.length !== 1) {
    throw invalid(`Architecture needs exactly one input node, found ${inputs.length}`)
  }
  if (!arch.nodes.some((n) => n.id === arch.output)) {
    throw invalid(`Architecture output '${arch.output}' is not a node`, { node: arch.output })
  }
  const ins = inputsByNode(arch)
  const shapes = new Map<string, number[]>()
  for (const node of order) {
    if (node.op === 'input') {
      if (ins.get(node.id)!.length > 0)
        throw invalid(`input (${node.id}) cannot have inputs`, { node: node.id })
      shapes.set(node.id, [...inputShape])
      continue
    }
    const from = ins.get(node.id)!
    if (from.length === 0) {
      throw invalid(`${node.op} (${node.id}) is dangling: no edge feeds it`, { node: node.id })
    }
    shapes.set(
      node.id,
      nodeOutputShape(
        node,
        from.map((id) => shapes.get(id)!),
      ),
    )
  }
  // every node must contribute to the output (tf.js drops the others, so their weights would not count)
  const live = new Set<string>([arch.output])
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!.id
    if (live.has(id)) for (const f of ins.get(id)!) live.add(f)
  }
  const dead = arch.nodes.find((n) => !live.has(n.id))
  if (dead) {
    throw invalid(`${dead.op} (${dead.id}) does not lead to the output '${arch.output}'`, { node: dead.id })
  }
  return shapes
}

/** Throws NasError('invalid_space') naming the node when `arch` cannot be built for `inputShape`. */
export function validateArchitecture(arch: Architecture, inputShape: number[]): void {
  inferShapes(arch, inputShape)
}

/** `arch` with its classifier head resized to `numClasses` units (unchanged when undefined). */
function withClasses(arch: Architecture, numClasses: number | undefined): Architecture {
  const head = arch.nodes.find((n) => n.id === arch.output)
  if (numClasses === undefined || head?.op !== 'dense') return arch
  return { ...arch, nodes: arch.nodes.map((n) => (n === head ? { ...head, units: numClasses } : n)) }
}

/**
 * Number of weights of the network built from `arch` for inputs of `inputShape` (trainable and non-trainable,
 * as tf's model.countParams()). When `numClasses` is given, the classifier head is counted with that many units.
 */
export function countParams(arch: Architecture, inputShape: number[], numClasses?: number): number {
  const effective = withClasses(arch, numClasses)
  const shapes = inferShapes(effective, inputShape)
  const ins = inputsByNode(effective)
  let total = 0
  for (const node of effective.nodes) {
    if (node.op === 'input') continue
    total += nodeParams(node, shapes.get(ins.get(node.id)![0]!)!)
  }
  return total
}

/** Multiply-adds of one forward pass of one sample (see nodeFlops for what is counted). */
export function countFlops(arch: Architecture, inputShape: number[], numClasses?: number): number {
  const effective = withClasses(arch, numClasses)
  const shapes = inferShapes(effective, inputShape)
  const ins = inputsByNode(effective)
  let total = 0
  for (const node of effective.nodes) {
    if (node.op === 'input') continue
    total += nodeFlops(node, shapes.get(ins.get(node.id)![0]!)!, shapes.get(node.id)!)
  }
  return total
}

/**
 * Estimated activation memory in bytes of one forward pass: float32 outputs of every node (the input
 * included) for `batchSize` samples. Identity-like nodes count like any other (an upper bound).
 */
export function activationMemory(arch: Architecture, inputShape: number[], batchSize = 1): number {
  const shapes = inferShapes(arch, inputShape)
  let elements = 0
  for (const shape of shapes.values()) elements += shape.reduce((a, b) => a * b, 1)
  return elements * 4 * batchSize
}
