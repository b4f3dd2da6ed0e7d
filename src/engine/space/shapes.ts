import type { ArchNode, Architecture } from '../../shared'
import { NasError } from '../../shared'

/**
 * Graph helpers and shape inference for architectures. Conventions shared with build-model.ts: conv2d uses
 * 'same' padding and stride 1 (keeps height and width), maxPool2d uses 'valid' padding and stride = poolSize
 * (floor(size / poolSize)), batchNorm normalises the last axis.
 */

/** Nodes in a topological order (inputs before the nodes that use them); throws on cycles or unknown ids. */
export function topoOrder(arch: Architecture): ArchNode[] {
  const byId = new Map(arch.nodes.map((n) => [n.id, n]))
  const indegree = new Map(arch.nodes.map((n) => [n.id, 0]))
  const next = new Map<string, string[]>()
  for (const [from, to] of arch.edges) {
    if (!byId.has(from) || !byId.has(to)) {
      throw new NasError(
        'invalid_space',
        `Architecture edge ${from} -> ${to} names a node that does not exist`,
      )
    }
    indegree.set(to, indegree.get(to)! + 1)
    next.set(from, [...(next.get(from) ?? []), to])
  }
  const ready = arch.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id)
  const order: ArchNode[] = []
  while (ready.length > 0) {
    const id = ready.shift()!
    order.push(byId.get(id)!)
    for (const to of next.get(id) ?? []) {
      indegree.set(to, indegree.get(to)! - 1)
      if (indegree.get(to) === 0) ready.push(to)
    }
  }
  if (order.length !== arch.nodes.length)
    throw new NasError('invalid_space', 'Architecture graph has a cycle')
  return order
}

/** Ids of the nodes feeding `id`, in edge order. */
export function inputsOf(arch: Architecture, id: string): string[] {
  return arch.edges.filter(([, to]) => to === id).map(([from]) => from)
}

/** Output shape (without the batch axis) of one node given its single input shape. */
export function nodeOutputShape(node: ArchNode, input: number[]): number[] {
  const spatial = input.length === 3
  const needSpatial = (): void => {
    if (!spatial) {
      throw new NasError(
        'invalid_space',
        `${node.op} (${node.id}) needs a [height, width, channels] input, got [${input}]`,
      )
    }
  }
  switch (node.op) {
    case 'input':
    case 'dropout':
    case 'batchNorm':
      return input
    case 'flatten':
      return [input.reduce((a, b) => a * b, 1)]
    case 'dense':
      if (input.length !== 1) {
        throw new NasError(
          'invalid_space',
          `dense (${node.id}) needs a flat input, got [${input}]: add a flatten`,
        )
      }
      return [node.units]
    case 'conv2d':
      needSpatial()
      return [input[0]!, input[1]!, node.filters]
    case 'maxPool2d': {
      needSpatial()
      const h = Math.floor(input[0]! / node.poolSize)
      const w = Math.floor(input[1]! / node.poolSize)
      if (h < 1 || w < 1) {
        throw new NasError(
          'invalid_space',
          `maxPool2d (${node.id}) with pool ${node.poolSize} cannot shrink a ${input[0]}x${input[1]} map`,
        )
      }
      return [h, w, input[2]!]
    }
  }
}

/** Number of weights (trainable and not) a node adds, given its input shape. */
export function nodeParams(node: ArchNode, input: number[]): number {
  switch (node.op) {
    case 'dense':
      return input[0]! * node.units + node.units
    case 'conv2d':
      return node.kernelSize * node.kernelSize * input[2]! * node.filters + node.filters
    case 'batchNorm':
      // gamma, beta, moving mean, moving variance per channel
      return 4 * input[input.length - 1]!
    default:
      return 0
  }
}

/** Output shape of every node, by id. Sequential/branching graphs whose nodes have exactly one input. */
export function inferShapes(arch: Architecture, inputShape: number[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>()
  for (const node of topoOrder(arch)) {
    if (node.op === 'input') {
      shapes.set(node.id, [...inputShape])
      continue
    }
    const ins = inputsOf(arch, node.id)
    if (ins.length !== 1) {
      throw new NasError(
        'invalid_space',
        `${node.op} (${node.id}) has ${ins.length} inputs; exactly 1 is supported`,
      )
    }
    shapes.set(node.id, nodeOutputShape(node, shapes.get(ins[0]!)!))
  }
  return shapes
}
