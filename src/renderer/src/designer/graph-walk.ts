import type { DesignEdge, DesignGraph, DesignNode, RepeatRange } from './design-types'
import { edgeId, isStructure } from './palette'

/** Walking the designer canvas: order, reachability, layer ranges, the ordered chain and its reordering. */

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

export function reachable(graph: DesignGraph, from: string, forward: boolean): Set<string> {
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
export function pathRange(
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

/** `total` split over `n` parts as evenly as possible, larger parts first. */
export function distribute(total: number, n: number): number[] {
  const base = Math.floor(total / n)
  return Array.from({ length: n }, (_, i) => base + (i < total % n ? 1 : 0))
}

/** Canvas layout of drawn definitions: top to bottom, like the architecture viewer. */
export const X0 = 200
export const Y0 = 50
export const DY = 86
