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
  type SequentialSpace,
  type SpaceFamilyName,
} from '@shared/domain'

/**
 * The space designer's canvas model and its mapping to and from a search space definition. Pure and
 * JSON-safe: the store keeps it (with undo/redo), the canvas draws it, and `graphToSpaceDef` turns it into
 * the definition main analyses and saves.
 *
 * Meaning of the canvas for each family:
 * - sequential / MLP / chain: Input -> blocks -> Output. The network is a stack of layers (blocks for chain);
 *   each layer is one of the blocks on the canvas. How many layers: the sum of the blocks' repeat ranges
 *   along the path (an edge that jumps over blocks lets the search leave them out, lowering the minimum).
 *   For chain, an edge marked optional is a skip connection the search may take or not.
 * - cells / NAS-Bench-201: Input -> one cell block -> Output; the cell block holds the cell's choices.
 */

export type BlockKind = 'conv' | 'sepconv' | 'pool' | 'dense' | 'dropout' | 'batchnorm' | 'identity' | 'cell'
export type NodeKind = BlockKind | 'input' | 'output'

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
  const defaults = kind === 'input' || kind === 'output' ? {} : BLOCK_BY_KIND[kind].defaults
  return {
    id: kind === 'input' || kind === 'output' ? kind : `b${i}`,
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
    .filter((n) => n.kind !== 'input' && n.kind !== 'output')
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
      if (range && ops.length) {
        const chain: ChainSpace = {
          ...b0,
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
const DY = 100

/** Draws a space definition as a canvas: Input, its blocks in a column, Output. */
export function spaceDefToGraph(def: SearchSpaceDef): DesignGraph {
  const graph: DesignGraph = {
    version: 1,
    family: def.family,
    nodes: [],
    edges: [],
    base: cloneJson(def),
  }
  const blocks: Array<{ kind: BlockKind; choices: BlockChoices; repeat?: RepeatRange }> = []
  let skipEdge: DesignEdge | null = null
  switch (def.family) {
    case 'sequential': {
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
      opBlocks.forEach((b, i) => blocks.push({ ...b, repeat: { min: mins[i]!, max: maxs[i]! } }))
      if (def.batchNorm.includes(true)) {
        blocks.push({
          kind: 'batchnorm',
          choices: {},
          repeat: { min: def.batchNorm.includes(false) ? 0 : 1, max: 1 },
        })
      }
      if (def.skip.some((s) => s !== 'none')) {
        skipEdge = { id: '', source: 'input', target: 'output', optional: def.skip.includes('none') }
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
  if (skipEdge && blocks.length > 0) graph.edges.push({ ...skipEdge, id: edgeId('input', 'output') })
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
    base: b,
    nodes: [
      { id: 'input', kind: 'input', x: X0, y: Y0, choices: {}, repeat: { min: 1, max: 1 } },
      { id: 'output', kind: 'output', x: X0, y: Y0 + DY * 4, choices: {}, repeat: { min: 1, max: 1 } },
    ],
    edges: [],
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

/** Short text on a block: its kind and its main choices, e.g. "Convolution · 16/32/64 · 3×3/5×5 · ×1–2". */
export function blockLabel(node: DesignNode): string {
  if (node.kind === 'input') return 'Input'
  if (node.kind === 'output') return 'Output (classifier)'
  const c = node.choices
  const parts: string[] = [BLOCK_BY_KIND[node.kind].label]
  if (c.filters?.length) parts.push(`${c.filters.join('/')} filters`)
  if (c.kernelSize?.length) parts.push(c.kernelSize.map((k) => `${k}×${k}`).join('/'))
  if (c.poolType?.length) parts.push(`${c.poolType.join('/')} ${(c.poolSize ?? []).join('/')}`)
  if (c.units?.length) parts.push(`${c.units.join('/')} units`)
  if (c.rate?.length) parts.push(`rate ${c.rate.join('/')}`)
  if (c.cellOps?.length) parts.push(`${c.cellOps.length} ops`)
  if (c.cellsPerStage?.length) parts.push(`${c.cellsPerStage.join('/')} per stage`)
  const { min, max } = node.repeat
  if (node.kind !== 'cell' && !(min === 1 && max === 1))
    parts.push(min === max ? `×${min}` : `×${min}–${max}`)
  return parts.join('\n')
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
