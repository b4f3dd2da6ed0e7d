import { type ChainOpChoice, type ChainSpace, type SearchSpaceDef } from '@shared/domain'
import type {
  BlockChoices,
  BlockKind,
  DesignEdge,
  DesignGraph,
  DrawnBlock,
  FamilyInput,
  NodeKind,
} from '../design-types'
import { uniq, uniqSorted } from '../palette'
import { distribute, isBypass, pathRange } from '../graph-walk'

/** The chain family on the designer canvas: stem, blocks, branch merge, skip connections. */

export const CHAIN_BASE: ChainSpace = {
  family: 'chain',
  version: 1,
  stemFilters: [16],
  minBlocks: 1,
  maxBlocks: 3,
  filters: [16, 32],
  strides: [1],
  branches: [1],
  merge: ['add'],
  skip: ['none', 'add'],
  batchNorm: [true],
  ops: [{ op: 'conv2d', kernelSize: [3], activation: ['relu'] }],
}

/** The chain canvas as a definition (null when it cannot be one; its problems are added to `input`). */
export function chainToDef(input: FamilyInput): SearchSpaceDef | null {
  const { graph, order, live, counted, opSources } = input
  const base = graph.base
  let def: SearchSpaceDef | null = null
  const b0 = base.family === 'chain' ? base : CHAIN_BASE
  const ops: ChainOpChoice[] = []
  const filters: number[] = []
  const strides: number[] = []
  let bn: boolean[] = [false]
  for (const b of live) {
    const c = b.choices
    if (b.kind === 'conv' || b.kind === 'sepconv') {
      const op = b.kind === 'conv' ? 'conv2d' : 'sepConv2d'
      filters.push(...(c.filters ?? []))
      strides.push(...(c.strides ?? []))
      const i = ops.findIndex((o) => o.op === op)
      if (i === -1) {
        ops.push({ op, kernelSize: uniqSorted(c.kernelSize ?? []), activation: uniq(c.activation ?? []) })
        opSources.push([b.id])
      } else {
        const o = ops[i] as Extract<ChainOpChoice, { op: 'conv2d' }>
        o.kernelSize = uniqSorted([...o.kernelSize, ...(c.kernelSize ?? [])])
        o.activation = uniq([...o.activation, ...(c.activation ?? [])])
        opSources[i]!.push(b.id)
      }
    } else if (b.kind === 'pool') {
      for (const t of c.poolType ?? []) {
        const op = t === 'max' ? 'maxPool2d' : 'avgPool2d'
        const i = ops.findIndex((o) => o.op === op)
        if (i === -1) {
          ops.push({ op, poolSize: uniqSorted(c.poolSize ?? []) })
          opSources.push([b.id])
        } else {
          const o = ops[i] as Extract<ChainOpChoice, { op: 'maxPool2d' }>
          o.poolSize = uniqSorted([...o.poolSize, ...(c.poolSize ?? [])])
          opSources[i]!.push(b.id)
        }
      }
    } else if (b.kind === 'identity') {
      if (!ops.some((o) => o.op === 'identity')) {
        ops.push({ op: 'identity' })
        opSources.push([b.id])
      }
    } else if (b.kind === 'batchnorm') {
      bn = b.repeat.min === 0 ? [false, true] : [true]
    }
  }
  const opKinds: NodeKind[] = ['conv', 'sepconv', 'pool', 'identity']
  // skip edges are residual connections here, not a way to leave blocks out
  const main = { ...graph, edges: graph.edges.filter((e) => !e.optional && !isBypass(graph, e)) }
  const range = pathRange(main, order, counted(opKinds))
  const optional = graph.edges.some((e) => e.optional)
  const fixedSkip = graph.edges.some((e) => !e.optional && isBypass(graph, e))
  const baseSkips = b0.skip.filter((s) => s !== 'none')
  const skips = baseSkips.length ? baseSkips : (['add'] as ChainSpace['skip'])
  const skip: ChainSpace['skip'] = optional ? ['none', ...skips] : fixedSkip ? skips : ['none']
  const stem = graph.nodes.find((n) => n.kind === 'stem')
  const merge = graph.nodes.find((n) => n.kind === 'merge')
  if (range && ops.length) {
    const chain: ChainSpace = {
      ...b0,
      ...(stem?.choices.filters?.length ? { stemFilters: uniqSorted(stem.choices.filters) } : {}),
      ...(merge?.choices.branches?.length ? { branches: uniqSorted(merge.choices.branches) } : {}),
      ...(merge?.choices.merge?.length ? { merge: uniq(merge.choices.merge) } : {}),
      minBlocks: Math.max(1, range.min),
      maxBlocks: Math.max(1, range.max),
      filters: filters.length ? uniqSorted(filters) : b0.filters,
      strides: strides.length ? uniqSorted(strides) : b0.strides,
      skip,
      batchNorm: bn,
      ops,
    }
    def = chain
  }
  return def
}

/** The blocks a chain definition is drawn with (and the chain's skip edge, if any). */
export function chainBlocks(
  def: ChainSpace,
  _graph: DesignGraph,
): { blocks: DrawnBlock[]; skipEdge: DesignEdge | null } {
  const blocks: DrawnBlock[] = []
  let skipEdge: DesignEdge | null = null
  const opBlocks = def.ops.map((op): { kind: BlockKind; choices: BlockChoices } => {
    switch (op.op) {
      case 'conv2d':
      case 'sepConv2d':
        return {
          kind: op.op === 'conv2d' ? 'conv' : 'sepconv',
          choices: {
            filters: [...def.filters],
            kernelSize: [...op.kernelSize],
            activation: [...op.activation],
            strides: [...def.strides],
          },
        }
      case 'maxPool2d':
      case 'avgPool2d':
        return {
          kind: 'pool',
          choices: { poolType: [op.op === 'maxPool2d' ? 'max' : 'avg'], poolSize: [...op.poolSize] },
        }
      case 'identity':
        return { kind: 'identity', choices: {} }
    }
  })
  const mins = distribute(def.minBlocks, opBlocks.length)
  const maxs = distribute(def.maxBlocks, opBlocks.length)
  blocks.push({ kind: 'stem', choices: { filters: [...def.stemFilters] } })
  opBlocks.forEach((b, i) => blocks.push({ ...b, repeat: { min: mins[i]!, max: maxs[i]! } }))
  blocks.push({ kind: 'merge', choices: { branches: [...def.branches], merge: [...def.merge] } })
  if (def.batchNorm.includes(true)) {
    blocks.push({
      kind: 'batchnorm',
      choices: {},
      repeat: { min: def.batchNorm.includes(false) ? 0 : 1, max: 1 },
    })
  }
  if (def.skip.some((s) => s !== 'none')) {
    skipEdge = { id: '', source: 'stem', target: 'merge', optional: def.skip.includes('none') }
  }
  return { blocks, skipEdge }
}
