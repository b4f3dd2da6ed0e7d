import { chainOrder, DY, edgeId, type DesignGraph, type DesignNode } from './designer-model'

/**
 * Where new blocks go on the designer canvas: never on top of another block, and on an ordered sequential
 * canvas ("Keep this order") at the end of the line, connected in order.
 */

/** Blocks closer than this (canvas units, centre to centre) would cover each other. */
const MIN_DX = 170
const MIN_DY = 64

/** True when a block centred at (x, y) would cover a block of `graph` other than `exceptId`. */
export function overlapsBlock(graph: DesignGraph, x: number, y: number, exceptId?: string): boolean {
  return graph.nodes.some(
    (n) => n.id !== exceptId && Math.abs(n.x - x) < MIN_DX && Math.abs(n.y - y) < MIN_DY,
  )
}

/** The spot nearest below (x, y), in steps of one row, where a block covers no other. */
export function freeSpot(
  graph: DesignGraph,
  x: number,
  y: number,
  exceptId?: string,
): { x: number; y: number } {
  let at = y
  for (let i = 0; i < 200 && overlapsBlock(graph, x, at, exceptId); i++) at += MIN_DY
  return { x, y: at }
}

/**
 * Ordered sequential canvases: puts `node` (already in `graph`, not yet connected) after the last block of the
 * line: the link from that block (or Input) to Output becomes last -> node -> Output, the node sits one row
 * below the last block and Output moves below it. Returns false (and changes nothing) on other canvases or
 * when the blocks do not form a line.
 */
export function appendInOrder(graph: DesignGraph, node: DesignNode): boolean {
  if (graph.family !== 'sequential' || !graph.ordered) return false
  const chain = chainOrder(graph)
  if (!chain) return false
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const last = byId.get(chain.at(-1) ?? 'input')!
  const output = byId.get('output')!
  graph.edges = graph.edges.filter((e) => !(e.source === last.id && e.target === 'output'))
  graph.edges.push(
    { id: edgeId(last.id, node.id), source: last.id, target: node.id, optional: false },
    { id: edgeId(node.id, 'output'), source: node.id, target: 'output', optional: false },
  )
  node.x = last.x
  node.y = last.y + DY
  if (output.y < node.y + DY) {
    output.x = node.x
    output.y = node.y + DY
  }
  return true
}
