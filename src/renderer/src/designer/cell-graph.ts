import { CELL_OPS, NB201_OPS } from '@shared/domain'
import type { BlockChoices } from '@renderer/designer/designer-model'

/**
 * The cell editor's model: the graph of one cell (its inputs, intermediate nodes, output and every candidate
 * edge the search may use) drawn from a cell block's choices, and the edit operations the editor offers.
 * Pure; every edit returns new choices for the block (the store makes each an undoable step).
 *
 * - Cells (NASNet / DARTS): inputs c[k-2] and c[k-1] (the two previous cells), `nodes` intermediate nodes;
 *   node i may take its 2 inputs from the cell inputs and any earlier node, so those are its candidate edges.
 *   The output concatenates every node ('all', DARTS) or those no other node uses ('unused', NASNet). The
 *   reduction cell has the same graph; its edges from the cell inputs have stride 2.
 * - NAS-Bench-201: 4 nodes, node j sums one op on each edge from every earlier node (6 edges); node 3 is
 *   the output.
 * The space definition has one list of candidate operations for all edges of a family's cells, so editing
 * the operations of one edge edits them for every edge (the editor says so).
 */

export type CellFamily = 'cell' | 'nb201'
export type CellKind = 'normal' | 'reduction'

export interface CellNodeView {
  id: string
  label: string
  role: 'input' | 'node' | 'output'
  /** Position (model coordinates, left to right). */
  x: number
  y: number
}

export interface CellEdgeView {
  id: string
  source: string
  target: string
  /** Candidate ops of this edge. */
  ops: string[]
  /** Reduction cells: edges from the cell inputs halve the image. */
  stride: 1 | 2
  /** Edges into the output: plain concatenation, no op. */
  concat: boolean
  /** -1 / 1: curve to one side, because the straight line would cross another node; 0: straight. */
  bend?: -1 | 0 | 1
}

export interface CellGraph {
  nodes: CellNodeView[]
  edges: CellEdgeView[]
}

export const MAX_CELL_NODES = 8
export const MIN_CELL_NODES = 1

/** Layout, top to bottom: cell inputs on the top row, wide apart; nodes in a zigzag; output at the bottom. */
const COL = 230
const ROW = 100
/** The family's operations in their canonical order. */
export const cellOpsOf = (family: CellFamily): readonly string[] =>
  family === 'nb201' ? NB201_OPS : CELL_OPS

/** Readable names of the cell operations. */
export const CELL_OP_LABELS: Record<string, string> = {
  none: 'none (no connection)',
  skip_connect: 'skip (identity)',
  sep_conv_3x3: 'separable conv 3×3',
  sep_conv_5x5: 'separable conv 5×5',
  sep_conv_7x7: 'separable conv 7×7',
  dil_conv_3x3: 'dilated conv 3×3',
  dil_conv_5x5: 'dilated conv 5×5',
  max_pool_3x3: 'max pool 3×3',
  avg_pool_3x3: 'average pool 3×3',
  conv_1x1: 'conv 1×1',
  conv_3x3: 'conv 3×3',
  nor_conv_1x1: 'conv 1×1',
  nor_conv_3x3: 'conv 3×3',
}

/** Marks the edges whose straight line passes within `clear` of another node, with the side to curve to. */
function bendAround(g: CellGraph, clear = 70): CellGraph {
  const at = new Map(g.nodes.map((n) => [n.id, n]))
  for (const e of g.edges) {
    const a = at.get(e.source)!
    const b = at.get(e.target)!
    const dx = b.x - a.x
    const dy = b.y - a.y
    const len2 = dx * dx + dy * dy
    let worst: { d: number; cross: number } | null = null
    for (const n of g.nodes) {
      if (n === a || n === b) continue
      const t = Math.max(0, Math.min(1, ((n.x - a.x) * dx + (n.y - a.y) * dy) / len2))
      const d = Math.hypot(a.x + t * dx - n.x, a.y + t * dy - n.y)
      if (d < clear && (!worst || d < worst.d)) worst = { d, cross: dx * (n.y - a.y) - dy * (n.x - a.x) }
    }
    e.bend = worst ? (worst.cross > 0 ? -1 : 1) : 0
  }
  return g
}

/** The graph a cell block stands for. */
export function cellGraph(choices: BlockChoices, family: CellFamily, kind: CellKind = 'normal'): CellGraph {
  const ops = [...(choices.cellOps ?? [])]
  if (family === 'nb201') {
    // a diamond: node 0 on top, 1 and 2 to the sides, 3 at the bottom; no edge runs through a node
    const at: Array<[number, number]> = [
      [COL / 2, 0],
      [0, ROW * 1.2],
      [COL, ROW * 2.2],
      [COL / 2, ROW * 3.4],
    ]
    const nodes: CellNodeView[] = [0, 1, 2, 3].map((j) => ({
      id: `n${j}`,
      label: j === 0 ? 'Node 0 (cell input)' : j === 3 ? 'Node 3 (cell output)' : `Node ${j}`,
      role: j === 0 ? 'input' : j === 3 ? 'output' : 'node',
      x: at[j]![0],
      y: at[j]![1],
    }))
    const edges: CellEdgeView[] = []
    for (let j = 1; j < 4; j++)
      for (let i = 0; i < j; i++)
        edges.push({ id: `n${i}->n${j}`, source: `n${i}`, target: `n${j}`, ops, stride: 1, concat: false })
    const g = bendAround({ nodes, edges })
    // 0 -> 3 and 1 -> 2 cross in the middle: curve 0 -> 3 so the two labels do not cover each other
    g.edges.find((e) => e.id === 'n0->n3')!.bend = -1
    return g
  }
  const count = choices.nodes ?? 2
  const nodes: CellNodeView[] = [
    { id: 'c0', label: 'c[k-2] (cell before last)', role: 'input', x: -COL * 0.55, y: 0 },
    { id: 'c1', label: 'c[k-1] (previous cell)', role: 'input', x: COL * 1.55, y: 0 },
  ]
  for (let i = 0; i < count; i++)
    nodes.push({ id: `n${i}`, label: `Node ${i + 1}`, role: 'node', x: i % 2 ? COL : 0, y: ROW * (i + 1) })
  nodes.push({ id: 'out', label: 'Output (concatenate)', role: 'output', x: COL / 2, y: ROW * (count + 1.2) })
  const edges: CellEdgeView[] = []
  for (let i = 0; i < count; i++) {
    for (const src of ['c0', 'c1', ...Array.from({ length: i }, (_, k) => `n${k}`)]) {
      const fromInput = src === 'c0' || src === 'c1'
      edges.push({
        id: `${src}->n${i}`,
        source: src,
        target: `n${i}`,
        ops,
        stride: kind === 'reduction' && fromInput ? 2 : 1,
        concat: false,
      })
    }
  }
  // 'unused': only nodes no other node may take as input; the last node always qualifies, the others only
  // when the search leaves them unused, so they are drawn as possible (see `concatNote`)
  for (let i = 0; i < count; i++)
    edges.push({ id: `n${i}->out`, source: `n${i}`, target: 'out', ops: [], stride: 1, concat: true })
  return bendAround({ nodes, edges })
}

/** One sentence on what the output takes. */
export function concatNote(choices: BlockChoices): string {
  return choices.concat === 'unused'
    ? 'The output joins only the nodes no other node uses (NASNet): which ones depends on the choices.'
    : 'The output joins every intermediate node (DARTS).'
}

/** A node more (cells only; at most 8). */
export function addCellNode(choices: BlockChoices): BlockChoices {
  const n = choices.nodes ?? 2
  if (n >= MAX_CELL_NODES) throw new Error(`A cell has at most ${MAX_CELL_NODES} intermediate nodes.`)
  return { ...choices, nodes: n + 1 }
}

/**
 * Removes intermediate node `id` (cells only; at least 1 stays). Nodes are interchangeable slots of the
 * definition, so removing any node leaves a cell of one node fewer; later nodes move up one place.
 */
export function removeCellNode(choices: BlockChoices, id: string): BlockChoices {
  const n = choices.nodes ?? 2
  const m = /^n(\d+)$/.exec(id)
  if (!m || Number(m[1]) >= n) throw new Error(`There is no intermediate node ${id} in this cell.`)
  if (n <= MIN_CELL_NODES) throw new Error('A cell needs at least one intermediate node.')
  return { ...choices, nodes: n - 1 }
}

/** Sets the candidate operations (every edge of the family's cells); kept in the family's order. */
export function setCandidateOps(
  choices: BlockChoices,
  family: CellFamily,
  ops: readonly string[],
): BlockChoices {
  const known = cellOpsOf(family)
  const unknown = ops.filter((o) => !known.includes(o))
  if (unknown.length) throw new Error(`Not an operation of this cell: ${unknown.join(', ')}.`)
  return { ...choices, cellOps: known.filter((o) => ops.includes(o)) }
}

/** Adds or removes one candidate operation. */
export function toggleCandidateOp(choices: BlockChoices, family: CellFamily, op: string): BlockChoices {
  const now = choices.cellOps ?? []
  return setCandidateOps(choices, family, now.includes(op) ? now.filter((o) => o !== op) : [...now, op])
}

/** Cells only: the output joins all nodes, or only the unused ones. */
export function setConcat(choices: BlockChoices, concat: 'all' | 'unused'): BlockChoices {
  return { ...choices, concat }
}
