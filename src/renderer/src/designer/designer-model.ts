import {
  ACTIVATIONS,
  CELL_OPS,
  NB201_OPS,
  type Activation,
  type ChainOpChoice,
  type ChainSpace,
  type CellSpace,
  type MlpSpace,
  type Nb201Space,
  type OpChoice,
  type SearchSpaceDef,
  type SequentialSlot,
  type SequentialSpace,
  type SpaceFamilyName,
} from '@shared/domain'

/**
 * The space designer's canvas model and its mapping to and from a search space definition. Pure and
 * JSON-safe: the store keeps it (with undo/redo), the canvas draws it, and `graphToSpaceDef` turns it into
 * the definition main analyses and saves.
 *
 * Meaning of the canvas for each family:
 * - sequential, ordered (`ordered: true`, the default for a new canvas): Input -> blocks -> Output is one chain;
 *   the layers come in the order of the blocks (each block a slot of the definition with its repeat range, an
 *   edge jumping over blocks makes them optional). Dragging a block above or below another reorders the chain.
 * - sequential unordered (presets without slots) / MLP / chain: Input -> blocks -> Output. The network is a
 *   stack of layers (blocks for chain);
 *   each layer is one of the blocks on the canvas. How many layers: the sum of the blocks' repeat ranges
 *   along the path (an edge that jumps over blocks lets the search leave them out, lowering the minimum).
 *   For chain, an edge marked optional is a skip connection the search may take or not.
 * - cells / NAS-Bench-201: Input -> one cell block -> Output; the cell block holds the cell's choices.
 */

export type BlockKind = 'conv' | 'sepconv' | 'pool' | 'dense' | 'dropout' | 'batchnorm' | 'identity' | 'cell'
/** Fixed parts of a family's network drawn on the canvas (chain: the stem and each block's branch merge). */
export type StructureKind = 'stem' | 'merge'
export type NodeKind = BlockKind | StructureKind | 'input' | 'output'

/** The choices a block offers the search; which fields apply depends on the block kind. */
export interface BlockChoices {
  filters?: number[]
  kernelSize?: number[]
  activation?: Activation[]
  strides?: number[]
  poolType?: Array<'max' | 'avg'>
  poolSize?: number[]
  units?: number[]
  rate?: number[]
  /** cell blocks */
  cellOps?: string[]
  channels?: number[]
  cellsPerStage?: number[]
  nodes?: number
  /** cell blocks of the cell family: which nodes the cell outputs (all, or those no other node uses) */
  concat?: 'all' | 'unused'
  /** chain merge node: parallel branches per block and how they are joined */
  branches?: number[]
  merge?: Array<'add' | 'concat'>
}

export interface RepeatRange {
  min: number
  max: number
}

export interface DesignNode {
  id: string
  kind: NodeKind
  /** Position on the canvas (model coordinates). */
  x: number
  y: number
  choices: BlockChoices
  repeat: RepeatRange
}

export interface DesignEdge {
  id: string
  source: string
  target: string
  /** A skip the search may take or not. */
  optional: boolean
}

/** What the canvas holds; `base` keeps the family's settings that no block shows (e.g. chain stem filters). */
export interface DesignGraph {
  version: 1
  family: SpaceFamilyName
  nodes: DesignNode[]
  edges: DesignEdge[]
  base: SearchSpaceDef
  /** Sequential only: the layers keep the order of the blocks (absent in files of older versions: false). */
  ordered?: boolean
}

/** A problem of the canvas; `nodeId` names the block it belongs to (absent: the whole space). */
export interface DesignProblem {
  nodeId?: string
  message: string
}

/** Palette entry: what a person sees and the choices a new block starts with. */
export interface BlockSpec {
  kind: BlockKind
  label: string
  description: string
  color: string
  defaults: BlockChoices
}

export const BLOCKS: readonly BlockSpec[] = [
  {
    kind: 'conv',
    label: 'Convolution',
    description: 'Finds local patterns in images (edges, textures).',
    color: '#0891b2',
    defaults: { filters: [16, 32, 64], kernelSize: [3, 5], activation: ['relu'], strides: [1] },
  },
  {
    kind: 'sepconv',
    label: 'Separable convolution',
    description: 'A lighter convolution: fewer weights, similar power.',
    color: '#0e7490',
    defaults: { filters: [16, 32], kernelSize: [3, 5], activation: ['relu'], strides: [1] },
  },
  {
    kind: 'pool',
    label: 'Pooling',
    description: 'Shrinks the image, keeping the strongest signals.',
    color: '#059669',
    defaults: { poolType: ['max'], poolSize: [2] },
  },
  {
    kind: 'dense',
    label: 'Dense',
    description: 'A fully connected layer of units.',
    color: '#4f46e5',
    defaults: { units: [64, 128], activation: ['relu'] },
  },
  {
    kind: 'dropout',
    label: 'Dropout',
    description: 'Randomly silences units while training, against overfitting.',
    color: '#b45309',
    defaults: { rate: [0.1, 0.3] },
  },
  {
    kind: 'batchnorm',
    label: 'Batch norm',
    description: 'Keeps values in a steady range so training is stable.',
    color: '#be185d',
    defaults: {},
  },
  {
    kind: 'identity',
    label: 'Identity / skip',
    description: 'Passes its input through unchanged (chain spaces).',
    color: '#57534e',
    defaults: {},
  },
  {
    kind: 'cell',
    label: 'Cell',
    description: 'A small searchable graph of operations, stacked several times.',
    color: '#7c3aed',
    defaults: {
      cellOps: ['skip_connect', 'sep_conv_3x3', 'max_pool_3x3'],
      channels: [8],
      cellsPerStage: [1],
      nodes: 2,
    },
  },
]

export const BLOCK_BY_KIND: Record<BlockKind, BlockSpec> = Object.fromEntries(
  BLOCKS.map((b) => [b.kind, b]),
) as Record<BlockKind, BlockSpec>

/** The chain family's fixed parts: not in the palette, cannot be removed, their choices edited like blocks'. */
export const STRUCTURE: Record<StructureKind, Omit<BlockSpec, 'kind'> & { kind: StructureKind }> = {
  stem: {
    kind: 'stem',
    label: 'Stem convolution',
    description: 'A 3×3 convolution that every network starts with, before the chain of blocks.',
    color: '#0f766e',
    defaults: { filters: [16] },
  },
  merge: {
    kind: 'merge',
    label: 'Branches and merge',
    description:
      'Each block of the chain runs 1 or more branches side by side, each branch one of the operations above, and joins them here.',
    color: '#9333ea',
    defaults: { branches: [1], merge: ['add'] },
  },
}

const isStructure = (kind: NodeKind): kind is StructureKind => kind === 'stem' || kind === 'merge'

/** Palette or structure spec of a node kind (null for Input and Output). */
export function specOf(kind: NodeKind): Omit<BlockSpec, 'kind'> | null {
  if (kind === 'input' || kind === 'output') return null
  return isStructure(kind) ? STRUCTURE[kind] : BLOCK_BY_KIND[kind]
}

/**
 * Removes the chain family's fixed parts (stem, merge) from a canvas that changes family, joining each one's
 * incoming blocks straight to its outgoing ones so the path stays connected.
 */
export function dropStructure(graph: DesignGraph): void {
  // the template's skip from stem to merge means nothing without them: drop it rather than turn it into a bypass
  const structure = new Set(graph.nodes.filter((n) => isStructure(n.kind)).map((n) => n.id))
  graph.edges = graph.edges.filter((e) => !(structure.has(e.source) && structure.has(e.target)))
  for (const s of graph.nodes.filter((n) => isStructure(n.kind))) {
    const ins = graph.edges.filter((e) => e.target === s.id).map((e) => e.source)
    const outs = graph.edges.filter((e) => e.source === s.id).map((e) => e.target)
    graph.edges = graph.edges.filter((e) => e.source !== s.id && e.target !== s.id)
    for (const a of ins)
      for (const b of outs)
        if (a !== b && !graph.edges.some((e) => e.source === a && e.target === b))
          graph.edges.push({ id: edgeId(a, b), source: a, target: b, optional: false })
    graph.nodes = graph.nodes.filter((n) => n.id !== s.id)
  }
}

/** Nodes a person cannot delete: Input, Output and the family's fixed parts. */
export const isFixedNode = (kind: NodeKind): boolean =>
  kind === 'input' || kind === 'output' || isStructure(kind)

/** Block kinds each family accepts on the canvas. */
export const FAMILY_BLOCKS: Record<SpaceFamilyName, readonly BlockKind[]> = {
  sequential: ['conv', 'sepconv', 'pool', 'dense', 'dropout', 'batchnorm'],
  chain: ['conv', 'sepconv', 'pool', 'identity', 'batchnorm'],
  mlp: ['dense', 'dropout', 'batchnorm'],
  cell: ['cell'],
  nb201: ['cell'],
}

/** Plain names of the families, for the template picker. */
export const FAMILY_LABELS: Record<SpaceFamilyName, string> = {
  sequential: 'Sequential layers',
  chain: 'Chain with skips',
  cell: 'Cells (NASNet / DARTS)',
  nb201: 'NAS-Bench-201 cell',
  mlp: 'MLP for tables',
}

/** One sentence per family: what the canvas means. */
export const FAMILY_HELP: Record<SpaceFamilyName, string> = {
  sequential:
    'A stack of layers: each layer is one of the blocks on the canvas, and the repeat ranges along the path say how many layers.',
  chain:
    'A stem, then a chain of blocks, each one of the operations on the canvas; an optional edge is a skip connection the search may add.',
  mlp: 'Dense blocks for tables: the dense block sets the units and how many blocks; dropout and batch norm are added to each.',
  cell: 'A cell is a small graph of operations found by the search, stacked in stages; edit its choices in the inspector.',
  nb201: 'The NAS-Bench-201 cell: 4 nodes and 6 edges, each edge one of the chosen operations.',
}

/** A deep copy of JSON data (works on Vue's reactive proxies, unlike structuredClone). */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

const uniqSorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b)
const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)]

/** A new block of `kind` at (x, y) with an id not used in `graph`. */
export function newNode(graph: DesignGraph, kind: NodeKind, x: number, y: number): DesignNode {
  const used = new Set(graph.nodes.map((n) => n.id))
  let i = graph.nodes.length + 1
  while (used.has(`b${i}`)) i++
  const defaults = specOf(kind)?.defaults ?? {}
  return {
    id: isFixedNode(kind) ? kind : `b${i}`,
    kind,
    x,
    y,
    choices: cloneJson(defaults),
    repeat: { min: 1, max: 1 },
  }
}

/** The edge id for a connection (one edge per ordered pair). */
export const edgeId = (source: string, target: string): string => `e:${source}->${target}`

// ---------------------------------------------------------------- graph walking

/** Topological order of node ids, or null when the edges make a cycle. */
export function topoSort(graph: DesignGraph): string[] | null {
  const indeg = new Map(graph.nodes.map((n) => [n.id, 0]))
  for (const e of graph.edges) indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1)
  const byX = [...graph.nodes].sort((a, b) => a.y - b.y || a.x - b.x)
  const queue = byX.filter((n) => indeg.get(n.id) === 0).map((n) => n.id)
  const out: string[] = []
  while (queue.length) {
    const id = queue.shift()!
    out.push(id)
    for (const e of graph.edges.filter((e) => e.source === id)) {
      const d = indeg.get(e.target)! - 1
      indeg.set(e.target, d)
      if (d === 0) queue.push(e.target)
    }
  }
  return out.length === graph.nodes.length ? out : null
}

function reachable(graph: DesignGraph, from: string, forward: boolean): Set<string> {
  const seen = new Set([from])
  const stack = [from]
  while (stack.length) {
    const id = stack.pop()!
    for (const e of graph.edges) {
      const [a, b] = forward ? [e.source, e.target] : [e.target, e.source]
      if (a === id && !seen.has(b)) {
        seen.add(b)
        stack.push(b)
      }
    }
  }
  return seen
}

/**
 * Shortest and longest path weight from Input to Output, where a node weighs `weight(node)` (min and max
 * repeat). Null when Output is not reached.
 */
function pathRange(
  graph: DesignGraph,
  order: string[],
  weight: (n: DesignNode) => RepeatRange,
): RepeatRange | null {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]))
  const lo = new Map<string, number>([['input', 0]])
  const hi = new Map<string, number>([['input', 0]])
  for (const id of order) {
    if (!lo.has(id)) continue
    for (const e of graph.edges.filter((e) => e.source === id)) {
      const w = weight(nodes.get(e.target)!)
      const l = lo.get(id)! + w.min
      const h = hi.get(id)! + w.max
      lo.set(e.target, Math.min(lo.get(e.target) ?? Infinity, l))
      hi.set(e.target, Math.max(hi.get(e.target) ?? -Infinity, h))
    }
  }
  if (!lo.has('output')) return null
  return { min: lo.get('output')!, max: hi.get('output')! }
}

// ---------------------------------------------------------------- canvas -> definition

/** The definition a canvas stands for, its problems by block, and which blocks made each `ops` entry. */
export interface MappedSpace {
  def: SearchSpaceDef | null
  problems: DesignProblem[]
  /** For families with an `ops` list: the block ids behind ops[i] (to place main's errors on blocks). */
  opSources: string[][]
}

const NONE: RepeatRange = { min: 0, max: 0 }

function blockProblems(node: DesignNode): string[] {
  const c = node.choices
  const out: string[] = []
  const need = (list: readonly unknown[] | undefined, what: string) => {
    if (list !== undefined && list.length === 0) out.push(`Pick at least one ${what}.`)
  }
  need(c.filters, 'filter count')
  need(c.kernelSize, 'kernel size')
  need(c.activation, 'activation')
  need(c.poolType, 'pooling type')
  need(c.poolSize, 'pool size')
  need(c.units, 'unit count')
  need(c.rate, 'dropout rate')
  need(c.cellOps, 'operation')
  need(c.channels, 'channel count')
  need(c.cellsPerStage, 'number of cells')
  need(c.branches, 'number of branches')
  need(c.merge, 'way to merge')
  if (node.repeat.min > node.repeat.max) out.push('Repeat: the minimum is larger than the maximum.')
  if (node.repeat.max < 1) out.push('Repeat: the maximum must be at least 1.')
  return out
}

/** Turns the canvas into a space definition of its family, collecting every problem on its block. */
export function graphToSpaceDef(graph: DesignGraph): MappedSpace {
  const problems: DesignProblem[] = []
  const opSources: string[][] = []
  const allowed = FAMILY_BLOCKS[graph.family]
  const input = graph.nodes.find((n) => n.kind === 'input')
  const output = graph.nodes.find((n) => n.kind === 'output')
  if (!input || !output) {
    return { def: null, problems: [{ message: 'The canvas needs its Input and Output.' }], opSources }
  }
  const order = topoSort(graph)
  if (!order) {
    return {
      def: null,
      problems: [{ message: 'The connections make a loop: remove one edge of it.' }],
      opSources,
    }
  }
  const fromInput = reachable(graph, 'input', true)
  const toOutput = reachable(graph, 'output', false)
  const blocks = order
    .map((id) => graph.nodes.find((n) => n.id === id)!)
    .filter((n) => n.kind !== 'input' && n.kind !== 'output' && !isStructure(n.kind))
  for (const s of graph.nodes.filter((n) => isStructure(n.kind))) {
    if (!fromInput.has(s.id) || !toOutput.has(s.id)) {
      problems.push({
        nodeId: s.id,
        message: `Not connected: the ${STRUCTURE[s.kind as StructureKind].label.toLowerCase()} must lie on the path from Input to Output.`,
      })
    }
    for (const m of blockProblems(s)) problems.push({ nodeId: s.id, message: m })
  }
  for (const b of blocks) {
    const spec = BLOCK_BY_KIND[b.kind as BlockKind]
    if (!allowed.includes(b.kind as BlockKind)) {
      problems.push({
        nodeId: b.id,
        message: `${spec.label} blocks cannot be used in a ${FAMILY_LABELS[graph.family]} space. Remove it or pick another template.`,
      })
    }
    if (!fromInput.has(b.id) || !toOutput.has(b.id)) {
      problems.push({
        nodeId: b.id,
        message: `Not connected: draw edges so that a path runs from Input through this block to Output.`,
      })
    }
    for (const m of blockProblems(b)) problems.push({ nodeId: b.id, message: m })
  }
  if (!fromInput.has('output')) {
    problems.push({
      nodeId: 'output',
      message: 'Nothing reaches Output yet: connect the blocks from Input to Output.',
    })
  }
  const live = blocks.filter(
    (b) => fromInput.has(b.id) && toOutput.has(b.id) && allowed.includes(b.kind as BlockKind),
  )
  const counted = (kinds: readonly NodeKind[]) => (n: DesignNode) =>
    kinds.includes(n.kind) && live.includes(n) ? n.repeat : NONE
  let def: SearchSpaceDef | null = null
  const base = graph.base
  switch (graph.family) {
    case 'sequential': {
      const ops: OpChoice[] = []
      const push = (key: string, make: () => OpChoice, merge: (into: OpChoice) => void, id: string) => {
        const i = ops.findIndex((o) => opKey(o) === key)
        if (i === -1) {
          ops.push(make())
          opSources.push([id])
        } else {
          merge(ops[i]!)
          opSources[i]!.push(id)
        }
      }
      for (const b of live) {
        const c = b.choices
        if (b.kind === 'conv' || b.kind === 'sepconv') {
          const op = b.kind === 'conv' ? 'conv2d' : 'sepConv2d'
          push(
            op,
            () => ({
              op,
              filters: uniqSorted(c.filters ?? []),
              kernelSize: uniqSorted(c.kernelSize ?? []),
              activation: uniq(c.activation ?? []),
              ...(c.strides && !(c.strides.length === 1 && c.strides[0] === 1)
                ? { strides: uniqSorted(c.strides) }
                : {}),
            }),
            (o) => {
              if (o.op !== 'conv2d' && o.op !== 'sepConv2d') return
              const strides = uniqSorted([...(o.strides ?? [1]), ...(c.strides ?? [1])])
              if (strides.length === 1 && strides[0] === 1) delete o.strides
              else o.strides = strides
              o.filters = uniqSorted([...o.filters, ...(c.filters ?? [])])
              o.kernelSize = uniqSorted([...o.kernelSize, ...(c.kernelSize ?? [])])
              o.activation = uniq([...o.activation, ...(c.activation ?? [])])
            },
            b.id,
          )
        } else if (b.kind === 'pool') {
          for (const t of c.poolType ?? []) {
            const op = t === 'max' ? 'maxPool2d' : 'avgPool2d'
            push(
              op,
              () => ({ op, poolSize: uniqSorted(c.poolSize ?? []) }),
              (o) => {
                if (o.op === 'maxPool2d' || o.op === 'avgPool2d')
                  o.poolSize = uniqSorted([...o.poolSize, ...(c.poolSize ?? [])])
              },
              b.id,
            )
          }
        } else if (b.kind === 'dense') {
          push(
            'dense',
            () => ({ op: 'dense', units: uniqSorted(c.units ?? []), activation: uniq(c.activation ?? []) }),
            (o) => {
              if (o.op !== 'dense') return
              o.units = uniqSorted([...o.units, ...(c.units ?? [])])
              o.activation = uniq([...o.activation, ...(c.activation ?? [])])
            },
            b.id,
          )
        } else if (b.kind === 'dropout') {
          push(
            'dropout',
            () => ({ op: 'dropout', rate: uniqSorted(c.rate ?? []) }),
            (o) => {
              if (o.op === 'dropout') o.rate = uniqSorted([...o.rate, ...(c.rate ?? [])])
            },
            b.id,
          )
        } else if (b.kind === 'batchnorm') {
          push(
            'batchNorm',
            () => ({ op: 'batchNorm' }),
            () => {},
            b.id,
          )
        }
      }
      if (graph.ordered) {
        // nothing to order until a path reaches Output (that problem is already reported)
        if (!fromInput.has('output')) break
        const onPath = new Set(
          blocks.filter((b) => fromInput.has(b.id) && toOutput.has(b.id)).map((b) => b.id),
        )
        const slotted = orderedSlots(graph, order, onPath, live, problems)
        if (slotted && ops.length) {
          const lo = slotted.reduce((n, s) => n + s.min, 0)
          const hi = slotted.reduce((n, s) => n + s.max, 0)
          if (hi < 1)
            problems.push({ message: 'Every path must keep at least one layer: an edge skips all blocks.' })
          if (hi > 64) problems.push({ message: `At most 64 layers: the blocks' repeats add up to ${hi}.` })
          def = {
            family: 'sequential',
            version: 1,
            minLayers: Math.max(1, lo),
            maxLayers: Math.max(1, hi),
            ops,
            slots: slotted,
          }
        }
        break
      }
      const range = pathRange(graph, order, counted(FAMILY_BLOCKS.sequential))
      if (range && ops.length) {
        if (range.min < 1)
          problems.push({ message: 'Every path must keep at least one layer: an edge skips all blocks.' })
        const seq: SequentialSpace = {
          family: 'sequential',
          version: 1,
          minLayers: Math.max(1, range.min),
          maxLayers: Math.max(1, range.max),
          ops,
        }
        def = seq
      }
      break
    }
    case 'chain': {
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
      break
    }
    case 'mlp': {
      const dense = live.filter((b) => b.kind === 'dense')
      const dropout = live.filter((b) => b.kind === 'dropout')
      const bnBlock = live.find((b) => b.kind === 'batchnorm')
      const range = pathRange(graph, order, counted(['dense']))
      if (!dense.length) problems.push({ message: 'Add a Dense block: an MLP is made of dense blocks.' })
      if (range && dense.length) {
        const mlp: MlpSpace = {
          family: 'mlp',
          version: 1,
          minBlocks: Math.max(1, range.min),
          maxBlocks: Math.max(1, range.max),
          units: uniqSorted(dense.flatMap((b) => b.choices.units ?? [])),
          activation: uniq(dense.flatMap((b) => b.choices.activation ?? [])),
          dropout: dropout.length ? uniqSorted(dropout.flatMap((b) => b.choices.rate ?? [])) : [0],
          batchNorm: bnBlock ? (bnBlock.repeat.min === 0 ? [false, true] : [true]) : [false],
        }
        def = mlp
      }
      break
    }
    case 'cell':
    case 'nb201': {
      const cells = live.filter((b) => b.kind === 'cell')
      if (cells.length !== 1) {
        problems.push({ message: 'Put exactly one Cell block between Input and Output.' })
        break
      }
      const c = cells[0]!.choices
      if (graph.family === 'cell') {
        const b0 = base.family === 'cell' ? base : CELL_BASE
        const cell: CellSpace = {
          ...b0,
          nodes: c.nodes ?? b0.nodes,
          concat: c.concat ?? b0.concat,
          ops: (c.cellOps ?? []).filter((o): o is CellSpace['ops'][number] =>
            (CELL_OPS as readonly string[]).includes(o),
          ),
          initChannels: uniqSorted(c.channels ?? []),
          cellsPerStage: uniqSorted(c.cellsPerStage ?? []),
        }
        def = cell
      } else {
        const nb: Nb201Space = {
          family: 'nb201',
          version: 1,
          ops: (c.cellOps ?? []).filter((o): o is Nb201Space['ops'][number] =>
            (NB201_OPS as readonly string[]).includes(o),
          ),
          channels: uniqSorted(c.channels ?? []),
          cellsPerStage: uniqSorted(c.cellsPerStage ?? []),
        }
        def = nb
      }
      opSources.push(...(def.ops as string[]).map(() => [cells[0]!.id]))
      break
    }
  }
  return { def: problems.length ? null : def, problems, opSources }
}

/** The op choices of one sequential block (a pool block with max and avg gives two). */
function opsOfBlock(b: DesignNode): OpChoice[] {
  const c = b.choices
  switch (b.kind) {
    case 'conv':
    case 'sepconv':
      return [
        {
          op: b.kind === 'conv' ? 'conv2d' : 'sepConv2d',
          filters: uniqSorted(c.filters ?? []),
          kernelSize: uniqSorted(c.kernelSize ?? []),
          activation: uniq(c.activation ?? []),
          ...(c.strides && !(c.strides.length === 1 && c.strides[0] === 1)
            ? { strides: uniqSorted(c.strides) }
            : {}),
        },
      ]
    case 'pool':
      return uniq(c.poolType ?? []).map((t) => ({
        op: t === 'max' ? 'maxPool2d' : 'avgPool2d',
        poolSize: uniqSorted(c.poolSize ?? []),
      }))
    case 'dense':
      return [{ op: 'dense', units: uniqSorted(c.units ?? []), activation: uniq(c.activation ?? []) }]
    case 'dropout':
      return [{ op: 'dropout', rate: uniqSorted(c.rate ?? []) }]
    case 'batchnorm':
      return [{ op: 'batchNorm' }]
    default:
      return []
  }
}

/**
 * The ordered chain of an ordered sequential canvas: the block ids from Input to Output in layer order, or
 * null when the blocks do not form one chain (or there is a loop). Blocks off the Input-Output path are left
 * out (they are reported as not connected).
 */
export function chainOrder(graph: DesignGraph): string[] | null {
  const order = topoSort(graph)
  if (!order) return null
  const fromInput = reachable(graph, 'input', true)
  const toOutput = reachable(graph, 'output', false)
  const kinds = new Map(graph.nodes.map((n) => [n.id, n.kind]))
  return order.filter(
    (id) =>
      id !== 'input' &&
      id !== 'output' &&
      !isStructure(kinds.get(id)!) &&
      fromInput.has(id) &&
      toOutput.has(id),
  )
}

/**
 * Ordered sequential canvas -> slots, one per block in chain order. Consecutive blocks (Input and Output
 * included) must be joined by an edge, else the block stands beside another and a problem names it; an edge
 * that jumps from one block to a later one makes the blocks in between optional (min 0).
 */
function orderedSlots(
  graph: DesignGraph,
  order: string[],
  onPath: Set<string>,
  live: DesignNode[],
  problems: DesignProblem[],
): SequentialSlot[] | null {
  // every block on the path counts for the line, also one of a kind the family refuses (it has its own problem)
  const chain = ['input', ...order.filter((id) => onPath.has(id)), 'output']
  const pos = new Map(chain.map((id, i) => [id, i]))
  const has = (a: string, b: string) => graph.edges.some((e) => e.source === a && e.target === b)
  let ok = true
  for (let i = 1; i < chain.length; i++) {
    if (!has(chain[i - 1]!, chain[i]!)) {
      ok = false
      const id = chain[i] === 'output' ? chain[i - 1]! : chain[i]!
      problems.push({
        nodeId: id,
        message:
          'Side by side with another block: layers of a sequential space come one after another, so connect the blocks in one line.',
      })
    }
  }
  if (!ok) return null
  const skipped = new Set<string>()
  for (const e of graph.edges) {
    const a = pos.get(e.source)
    const b = pos.get(e.target)
    if (a === undefined || b === undefined) continue
    for (let i = a + 1; i < b; i++) skipped.add(chain[i]!)
  }
  return live
    .filter((b) => pos.has(b.id))
    .sort((a, b) => pos.get(a.id)! - pos.get(b.id)!)
    .map((b) => ({ ops: opsOfBlock(b), min: skipped.has(b.id) ? 0 : b.repeat.min, max: b.repeat.max }))
}

/**
 * After block `id` was dragged on an ordered sequential canvas: when its new height puts it before or after
 * other blocks of the chain, the chain is rewired in the new top-to-bottom order (edges jumping over blocks
 * that would now point backwards are dropped) and the blocks are lined up in a column. Returns true when the
 * order changed. Other canvases, and blocks outside the chain, are left as they are.
 */
export function reorderAfterMove(graph: DesignGraph, id: string): boolean {
  if (graph.family !== 'sequential' || !graph.ordered) return false
  const chain = chainOrder(graph)
  if (!chain || !chain.includes(id)) return false
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const next = [...chain].sort((a, b) => byId.get(a)!.y - byId.get(b)!.y)
  if (next.every((x, i) => x === chain[i])) return false
  const full = ['input', ...next, 'output']
  const old = ['input', ...chain, 'output']
  const oldLinks = new Set(old.slice(1).map((t, i) => edgeId(old[i]!, t)))
  const pos = new Map(full.map((x, i) => [x, i]))
  const kept = graph.edges.filter((e) => {
    if (oldLinks.has(e.id)) return false // the chain's own links are redrawn below
    if (!pos.has(e.source) || !pos.has(e.target)) return true
    return pos.get(e.target)! - pos.get(e.source)! > 1 // jumps that still point forward
  })
  const links: DesignEdge[] = []
  for (let i = 0; i + 1 < full.length; i++) {
    const [s, t] = [full[i]!, full[i + 1]!]
    links.push({ id: edgeId(s, t), source: s, target: t, optional: false })
  }
  graph.edges = [...links, ...kept.filter((e) => !links.some((l) => l.id === e.id))]
  const x = byId.get('input')!.x
  const y0 = byId.get('input')!.y
  full.forEach((n, i) => {
    const node = byId.get(n)!
    node.x = x
    node.y = y0 + DY * i
  })
  return true
}

/** True when another path (of 2 or more edges) also leads from the edge's source to its target. */
export function isBypass(graph: DesignGraph, edge: DesignEdge): boolean {
  const without = { ...graph, edges: graph.edges.filter((e) => e.id !== edge.id) }
  return reachable(without, edge.source, true).has(edge.target)
}

const opKey = (o: OpChoice): string => o.op

const CHAIN_BASE: ChainSpace = {
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
const CELL_BASE: CellSpace = {
  family: 'cell',
  version: 1,
  nodes: 2,
  ops: ['skip_connect', 'sep_conv_3x3'],
  initChannels: [8],
  cellsPerStage: [1],
  stages: 2,
  stemMultiplier: 1,
  concat: 'all',
}

// ---------------------------------------------------------------- definition -> canvas

/** `total` split over `n` parts as evenly as possible, larger parts first. */
export function distribute(total: number, n: number): number[] {
  const base = Math.floor(total / n)
  return Array.from({ length: n }, (_, i) => base + (i < total % n ? 1 : 0))
}

/** Canvas layout of drawn definitions: top to bottom, like the architecture viewer. */
const X0 = 200
const Y0 = 50
export const DY = 86

/** Draws a space definition as a canvas: Input, its blocks in a column, Output. */
export function spaceDefToGraph(def: SearchSpaceDef): DesignGraph {
  const graph: DesignGraph = {
    version: 1,
    family: def.family,
    nodes: [],
    edges: [],
    base: cloneJson(def),
  }
  const blocks: Array<{ kind: BlockKind | StructureKind; choices: BlockChoices; repeat?: RepeatRange }> = []
  let skipEdge: DesignEdge | null = null
  switch (def.family) {
    case 'sequential': {
      if (def.slots) {
        graph.ordered = true
        for (const slot of def.slots) {
          const pools = slot.ops.filter((o) => o.op === 'maxPool2d' || o.op === 'avgPool2d')
          const rest = slot.ops.filter((o) => o.op !== 'maxPool2d' && o.op !== 'avgPool2d')
          // a slot is one block; a slot of several kinds (hand-written files) becomes one block per kind
          const parts = rest.map(blockOfOp)
          if (pools.length) {
            const sizes = uniqSorted(pools.flatMap((o) => ('poolSize' in o ? o.poolSize : [])))
            const types = pools.map((o) => (o.op === 'maxPool2d' ? 'max' : 'avg')) as Array<'max' | 'avg'>
            parts.push({ kind: 'pool', choices: { poolType: types, poolSize: sizes } })
          }
          for (const p of parts) blocks.push({ ...p, repeat: { min: slot.min, max: slot.max } })
        }
        break
      }
      for (const op of def.ops) blocks.push(blockOfOp(op))
      const mins = distribute(def.minLayers, blocks.length)
      const maxs = distribute(def.maxLayers, blocks.length)
      blocks.forEach((b, i) => (b.repeat = { min: mins[i]!, max: maxs[i]! }))
      break
    }
    case 'chain': {
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
      break
    }
    case 'mlp': {
      blocks.push({
        kind: 'dense',
        choices: { units: [...def.units], activation: [...def.activation] },
        repeat: { min: def.minBlocks, max: def.maxBlocks },
      })
      if (def.batchNorm.includes(true)) {
        blocks.push({
          kind: 'batchnorm',
          choices: {},
          repeat: { min: def.batchNorm.includes(false) ? 0 : 1, max: 1 },
        })
      }
      if (def.dropout.some((r) => r > 0))
        blocks.push({ kind: 'dropout', choices: { rate: [...def.dropout] } })
      break
    }
    case 'cell':
      blocks.push({
        kind: 'cell',
        choices: {
          cellOps: [...def.ops],
          channels: [...def.initChannels],
          cellsPerStage: [...def.cellsPerStage],
          nodes: def.nodes,
          concat: def.concat,
        },
      })
      break
    case 'nb201':
      blocks.push({
        kind: 'cell',
        choices: {
          cellOps: [...def.ops],
          channels: [...def.channels],
          cellsPerStage: [...def.cellsPerStage],
        },
      })
      break
  }
  graph.nodes.push(newNode(graph, 'input', X0, Y0))
  let prev = 'input'
  blocks.forEach((b, i) => {
    const node = newNode(graph, b.kind, X0, Y0 + DY * (i + 1))
    node.choices = b.choices
    node.repeat = b.repeat ?? { min: 1, max: 1 }
    graph.nodes.push(node)
    graph.edges.push({ id: edgeId(prev, node.id), source: prev, target: node.id, optional: false })
    prev = node.id
  })
  graph.nodes.push(newNode(graph, 'output', X0, Y0 + DY * (blocks.length + 1)))
  graph.edges.push({ id: edgeId(prev, 'output'), source: prev, target: 'output', optional: false })
  if (skipEdge && blocks.length > 0)
    graph.edges.push({ ...skipEdge, id: edgeId(skipEdge.source, skipEdge.target) })
  return graph
}

function blockOfOp(op: OpChoice): { kind: BlockKind; choices: BlockChoices } {
  switch (op.op) {
    case 'conv2d':
    case 'sepConv2d':
      return {
        kind: op.op === 'conv2d' ? 'conv' : 'sepconv',
        choices: {
          filters: [...op.filters],
          kernelSize: [...op.kernelSize],
          activation: [...op.activation],
          strides: [...(op.strides ?? [1])],
        },
      }
    case 'maxPool2d':
    case 'avgPool2d':
      return {
        kind: 'pool',
        choices: { poolType: [op.op === 'maxPool2d' ? 'max' : 'avg'], poolSize: [...op.poolSize] },
      }
    case 'globalAvgPool':
      return { kind: 'pool', choices: { poolType: ['avg'], poolSize: [2] } }
    case 'dense':
      return { kind: 'dense', choices: { units: [...op.units], activation: [...op.activation] } }
    case 'dropout':
      return { kind: 'dropout', choices: { rate: [...op.rate] } }
    case 'batchNorm':
      return { kind: 'batchnorm', choices: {} }
  }
}

/** An empty canvas of a family: just Input and Output. */
export function emptyGraph(family: SpaceFamilyName, base?: SearchSpaceDef): DesignGraph {
  const b = base ?? defaultBase(family)
  return {
    version: 1,
    family,
    ...(family === 'sequential' ? { ordered: true } : {}),
    base: b,
    nodes: [
      { id: 'input', kind: 'input', x: X0, y: Y0, choices: {}, repeat: { min: 1, max: 1 } },
      ...(family === 'chain'
        ? (['stem', 'merge'] as const).map((k, i) => ({
            id: k,
            kind: k,
            x: X0,
            y: Y0 + DY * (i === 0 ? 1 : 4),
            choices: cloneJson(
              k === 'stem'
                ? { filters: [...CHAIN_BASE.stemFilters] }
                : { branches: [...CHAIN_BASE.branches], merge: [...CHAIN_BASE.merge] },
            ),
            repeat: { min: 1, max: 1 },
          }))
        : []),
      {
        id: 'output',
        kind: 'output',
        x: X0,
        y: Y0 + DY * (family === 'chain' ? 5 : 4),
        choices: {},
        repeat: { min: 1, max: 1 },
      },
    ],
    edges:
      family === 'chain'
        ? [
            { id: edgeId('input', 'stem'), source: 'input', target: 'stem', optional: false },
            { id: edgeId('merge', 'output'), source: 'merge', target: 'output', optional: false },
          ]
        : [],
  }
}

function defaultBase(family: SpaceFamilyName): SearchSpaceDef {
  switch (family) {
    case 'chain':
      return CHAIN_BASE
    case 'cell':
      return CELL_BASE
    case 'nb201':
      return { family: 'nb201', version: 1, ops: [...NB201_OPS], channels: [8], cellsPerStage: [1] }
    case 'mlp':
      return {
        family: 'mlp',
        version: 1,
        minBlocks: 1,
        maxBlocks: 2,
        units: [64],
        activation: ['relu'],
        dropout: [0],
        batchNorm: [false],
      }
    case 'sequential':
      return {
        family: 'sequential',
        version: 1,
        minLayers: 1,
        maxLayers: 2,
        ops: [{ op: 'dense', units: [64], activation: ['relu'] }],
      }
  }
}

/**
 * Short text on a block: its kind and its main choices, e.g. "Convolution · 16/32/64 · 3×3/5×5 · ×1–2";
 * `position` (1-based, ordered sequential canvases) puts the layer's place in front: "2. Pooling".
 */
export function blockLabel(node: DesignNode, position?: number): string {
  if (node.kind === 'input') return 'Input'
  if (node.kind === 'output') return 'Output (classifier)'
  const c = node.choices
  const parts: string[] = [`${position ? `${position}. ` : ''}${specOf(node.kind)!.label}`]
  if (c.filters?.length) parts.push(`${c.filters.join('/')} filters`)
  if (c.kernelSize?.length) parts.push(c.kernelSize.map((k) => `${k}×${k}`).join('/'))
  if (c.poolType?.length) parts.push(`${c.poolType.join('/')} ${(c.poolSize ?? []).join('/')}`)
  if (c.units?.length) parts.push(`${c.units.join('/')} units`)
  if (c.rate?.length) parts.push(`rate ${c.rate.join('/')}`)
  if (c.cellOps?.length) parts.push(`${c.cellOps.length} ops`)
  if (c.cellsPerStage?.length) parts.push(`${c.cellsPerStage.join('/')} per stage`)
  if (c.branches?.length) parts.push(`${c.branches.join('/')} branch${c.branches.join() === '1' ? '' : 'es'}`)
  if (c.merge?.length && !(c.branches?.length === 1 && c.branches[0] === 1))
    parts.push(`merged by ${c.merge.join('/')}`)
  const { min, max } = node.repeat
  if (node.kind !== 'cell' && !isStructure(node.kind) && !(min === 1 && max === 1))
    parts.push(min === max ? `×${min}` : `×${min}–${max}`)
  return parts.join('\n')
}

/**
 * How lists name block `id`: as the canvas labels it ("3. Dense" on an ordered canvas, "Dense" elsewhere), with
 * its choices too ("Dense · 32/64 units") when another block has the same name.
 */
export function blockTitle(graph: DesignGraph, id: string): string {
  const node = graph.nodes.find((n) => n.id === id)
  if (!node) return 'A removed block'
  const order = graph.family === 'sequential' && graph.ordered ? (chainOrder(graph) ?? []) : []
  const position = order.indexOf(id) + 1 || undefined
  const first = (n: DesignNode, p?: number): string => blockLabel(n, p).split('\n')[0]!
  const title = first(node, position)
  const twin = graph.nodes.some(
    (n) => n.id !== id && first(n, order.indexOf(n.id) + 1 || undefined) === title,
  )
  return twin ? blockLabel(node, position).split('\n').join(' · ') : title
}

/** Every activation a block may offer. */
export const ACTIVATION_OPTIONS: readonly Activation[] = ACTIVATIONS

/** Ops a cell block may offer, per family. */
export const CELL_OP_OPTIONS: Record<'cell' | 'nb201', readonly string[]> = {
  cell: CELL_OPS,
  nb201: NB201_OPS,
}

/**
 * Places main's analysis errors (by field path or message) on the blocks they concern: "ops.N..." goes to
 * the blocks behind ops[N]; a message naming an op goes to the blocks of that kind; the rest stays general.
 */
export function placeErrors(
  graph: DesignGraph,
  mapped: MappedSpace,
  errors: ReadonlyArray<{ path: string; message: string }>,
): DesignProblem[] {
  const names: Record<string, BlockKind> = {
    conv2d: 'conv',
    sepConv2d: 'sepconv',
    maxPool2d: 'pool',
    avgPool2d: 'pool',
    dense: 'dense',
    dropout: 'dropout',
    batchNorm: 'batchnorm',
  }
  const out: DesignProblem[] = []
  for (const e of errors) {
    const m = /^ops\.(\d+)/.exec(e.path)
    const sources = m ? mapped.opSources[Number(m[1])] : undefined
    if (sources?.length) {
      for (const id of sources) out.push({ nodeId: id, message: e.message })
      continue
    }
    const named = Object.keys(names).find((k) => new RegExp(`\\b${k}\\b`).test(e.message))
    const target = named ? graph.nodes.find((n) => n.kind === names[named]) : undefined
    if (target) out.push({ nodeId: target.id, message: e.message })
    else if (graph.family === 'cell' || graph.family === 'nb201') {
      const cell = graph.nodes.find((n) => n.kind === 'cell')
      out.push(cell ? { nodeId: cell.id, message: e.message } : { message: e.message })
    } else out.push({ message: e.path ? `${e.path}: ${e.message}` : e.message })
  }
  return out
}
