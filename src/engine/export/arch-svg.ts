import type { ArchNode, Architecture } from '../../shared'
import { topoOrder } from '../space/shapes'

/**
 * The architecture as an inline SVG for the report: nodes in rows by their depth (longest path from the
 * input), left to right within a row, edges as straight lines; labels name the op and its main settings.
 */

const W = 156
const H = 34
const GAP_X = 14
const GAP_Y = 26
const MAX_WIDTH = 980

const COLORS: Partial<Record<ArchNode['op'], string>> = {
  input: '#e8f0fe',
  conv2d: '#fde7c8',
  sepConv2d: '#fde7c8',
  depthwiseConv2d: '#fde7c8',
  dense: '#dbeafe',
  maxPool2d: '#dcfce7',
  avgPool2d: '#dcfce7',
  globalAvgPool: '#dcfce7',
  add: '#f3e8ff',
  concat: '#f3e8ff',
  zero: '#f1f5f9',
}

/** A short label for a node, e.g. "conv 3x3, 16, relu" or "max pool 2". */
export function nodeLabel(node: ArchNode): string {
  switch (node.op) {
    case 'conv2d':
      return `conv ${node.kernelSize}x${node.kernelSize}, ${node.filters}${(node.strides ?? 1) > 1 ? ` /${node.strides}` : ''}, ${node.activation}`
    case 'sepConv2d':
      return `sep conv ${node.kernelSize}x${node.kernelSize}, ${node.filters}, ${node.activation}`
    case 'depthwiseConv2d':
      return `dw conv ${node.kernelSize}x${node.kernelSize}${(node.dilation ?? 1) > 1 ? ` d${node.dilation}` : ''}${(node.strides ?? 1) > 1 ? ` /${node.strides}` : ''}`
    case 'dense':
      return `dense ${node.units}, ${node.activation}`
    case 'maxPool2d':
      return `max pool ${node.poolSize}`
    case 'avgPool2d':
      return `avg pool ${node.poolSize}`
    case 'globalAvgPool':
      return 'global avg pool'
    case 'dropout':
      return `dropout ${node.rate}`
    case 'batchNorm':
      return 'batch norm'
    case 'activation':
      return node.activation
    case 'relu':
      return node.maxValue === undefined ? 'relu' : `relu max ${node.maxValue}`
    case 'zeroPad':
      return `zero pad ${node.padding.join(' ')}`
    default:
      return node.op
  }
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

interface Box {
  id: string
  label: string
  fill: string
}

/** Graphs above this many nodes are drawn with each cell / block collapsed into one box. */
const COLLAPSE_ABOVE = 48

/** Nodes and edges to draw: the graph itself, or its groups (cells, blocks) as single boxes when it is big. */
function drawable(arch: Architecture): { boxes: Box[]; edges: Array<[string, string]> } {
  const order = topoOrder(arch)
  const groups = new Map((arch.groups ?? []).map((g) => [g.id, g]))
  const collapse = order.length > COLLAPSE_ABOVE && groups.size > 0
  const key = (n: ArchNode): string =>
    collapse && n.group && groups.has(n.group) ? `group:${n.group}` : n.id
  const boxes: Box[] = []
  const seen = new Map<string, Box>()
  const counts = new Map<string, number>()
  for (const node of order) {
    const k = key(node)
    counts.set(k, (counts.get(k) ?? 0) + 1)
    if (seen.has(k)) continue
    const group = k.startsWith('group:') ? groups.get(node.group!)! : null
    const box: Box = group
      ? { id: k, label: group.label, fill: group.kind === 'reduction' ? '#fde7c8' : '#e0e7ff' }
      : { id: k, label: nodeLabel(node), fill: COLORS[node.op] ?? '#f8fafc' }
    seen.set(k, box)
    boxes.push(box)
  }
  for (const box of boxes)
    if (box.id.startsWith('group:')) box.label = `${box.label} (${counts.get(box.id)} ops)`
  const byId = new Map(arch.nodes.map((n) => [n.id, n]))
  const edgeSet = new Set<string>()
  const edges: Array<[string, string]> = []
  for (const [a, b] of arch.edges) {
    const ka = key(byId.get(a)!)
    const kb = key(byId.get(b)!)
    if (ka === kb || edgeSet.has(`${ka}>${kb}`)) continue
    edgeSet.add(`${ka}>${kb}`)
    edges.push([ka, kb])
  }
  return { boxes, edges }
}

/**
 * SVG markup (no XML prolog) of `arch`, at most ~980 px wide; rows wrap when a depth has many nodes. Big
 * graphs (cell networks) show each cell or block as one box.
 */
export function archToSvg(arch: Architecture): string {
  const { boxes, edges } = drawable(arch)
  const ins = new Map<string, string[]>(boxes.map((b) => [b.id, []]))
  for (const [a, b] of edges) ins.get(b)!.push(a)
  const depth = new Map<string, number>()
  for (const box of boxes) {
    const from = ins.get(box.id)!
    depth.set(box.id, from.length === 0 ? 0 : Math.max(...from.map((f) => (depth.get(f) ?? 0) + 1)))
  }
  const perRow = Math.max(1, Math.floor((MAX_WIDTH + GAP_X) / (W + GAP_X)))
  const rows: Box[][] = []
  for (const box of boxes) {
    const d = depth.get(box.id)!
    ;(rows[d] ??= []).push(box)
  }
  const chunks: Box[][] = []
  for (const row of rows) {
    if (!row) continue
    for (let start = 0; start < row.length; start += perRow) chunks.push(row.slice(start, start + perRow))
  }
  const width = Math.max(W, ...chunks.map((c) => c.length * W + (c.length - 1) * GAP_X))
  const total = width + 16
  const pos = new Map<string, { x: number; y: number }>()
  chunks.forEach((chunk, r) => {
    const rowWidth = chunk.length * W + (chunk.length - 1) * GAP_X
    const shift = (total - rowWidth) / 2
    chunk.forEach((box, i) => pos.set(box.id, { x: shift + i * (W + GAP_X), y: 8 + r * (H + GAP_Y) }))
  })
  const height = 8 + chunks.length * (H + GAP_Y) - GAP_Y + 8
  const lines = edges
    .map(([a, b]) => {
      const p = pos.get(a)!
      const q = pos.get(b)!
      return `<line x1="${p.x + W / 2}" y1="${p.y + H}" x2="${q.x + W / 2}" y2="${q.y}" stroke="#94a3b8" stroke-width="1.2" marker-end="url(#arrow)"/>`
    })
    .join('')
  const rects = boxes
    .map((box) => {
      const p = pos.get(box.id)!
      const label = esc(box.label)
      return `<g><title>${esc(box.id)}: ${label}</title><rect x="${p.x}" y="${p.y}" width="${W}" height="${H}" rx="6" fill="${box.fill}" stroke="#64748b" stroke-width="1"/><text x="${p.x + W / 2}" y="${p.y + H / 2 + 4}" text-anchor="middle" font-size="11" font-family="system-ui, sans-serif" fill="#0f172a">${label}</text></g>`
    })
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${height}" viewBox="0 0 ${total} ${height}" role="img" aria-label="Network architecture"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8"/></marker></defs>${lines}${rects}</svg>`
}
