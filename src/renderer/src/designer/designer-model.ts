import {
  ACTIVATIONS,
  CELL_OPS,
  NB201_OPS,
  type Activation,
  type SearchSpaceDef,
  type SpaceFamilyName,
} from '@shared/domain'
import type {
  BlockKind,
  DesignGraph,
  DesignNode,
  DesignProblem,
  FamilyInput,
  MappedSpace,
  NodeKind,
  RepeatRange,
  StructureKind,
} from './design-types'
import {
  BLOCK_BY_KIND,
  FAMILY_BLOCKS,
  FAMILY_LABELS,
  STRUCTURE,
  cloneJson,
  edgeId,
  isStructure,
  newNode,
  specOf,
} from './palette'
import { X0, Y0, DY, chainOrder, reachable, topoSort } from './graph-walk'
import { sequentialBlocks, sequentialToDef } from './families/sequential'
import { CHAIN_BASE, chainBlocks, chainToDef } from './families/chain'
import { mlpBlocks, mlpToDef } from './families/mlp'
import { CELL_BASE, cellFamilyBlocks, cellToDef } from './families/cell'
import { BACKBONE_BASE, backboneBlocks, backboneToDef } from './families/backbone'

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

export * from './design-types'
export * from './palette'
export * from './graph-walk'

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
  const inputNode = graph.nodes.find((n) => n.kind === 'input')
  const outputNode = graph.nodes.find((n) => n.kind === 'output')
  if (!inputNode || !outputNode) {
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
  const def = TO_DEF[graph.family]({
    graph,
    order,
    blocks,
    live,
    fromInput,
    toOutput,
    counted,
    problems,
    opSources,
  })
  return { def: problems.length ? null : def, problems, opSources }
}

/** Each family's canvas -> definition mapping (families/*.ts). */
const TO_DEF: Record<SpaceFamilyName, (input: FamilyInput) => SearchSpaceDef | null> = {
  sequential: sequentialToDef,
  chain: chainToDef,
  mlp: mlpToDef,
  cell: cellToDef,
  nb201: cellToDef,
  backbone: backboneToDef,
}

// ---------------------------------------------------------------- definition -> canvas

/** Draws a space definition as a canvas: Input, its blocks in a column, Output. */
export function spaceDefToGraph(def: SearchSpaceDef): DesignGraph {
  const graph: DesignGraph = {
    version: 1,
    family: def.family,
    nodes: [],
    edges: [],
    base: cloneJson(def),
  }
  const drawn =
    def.family === 'sequential'
      ? sequentialBlocks(def, graph)
      : def.family === 'chain'
        ? chainBlocks(def, graph)
        : def.family === 'mlp'
          ? mlpBlocks(def, graph)
          : def.family === 'backbone'
            ? backboneBlocks(def, graph)
            : cellFamilyBlocks(def, graph)
  const { blocks, skipEdge } = drawn
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
    case 'backbone':
      return BACKBONE_BASE
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
  if (c.backbone?.length) parts.push(c.backbone.join('/'))
  if (c.cut?.length) parts.push(`cut at ${c.cut.join('/')}`)
  if (c.fineTune?.length)
    parts.push(
      c.fineTune
        .map((f) => (typeof f === 'number' ? `tune last ${f}` : f === 'all' ? 'tune all' : 'frozen'))
        .join('/'),
    )
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
