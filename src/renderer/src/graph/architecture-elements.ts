import type { ArchGroup, ArchNode, ArchOp, Architecture } from '@shared/domain'

/** Fill colour per op type (also used for the legend); chosen to read on light and dark backgrounds. */
export const OP_COLORS: Record<ArchOp, string> = {
  input: '#64748b',
  flatten: '#94a3b8',
  dense: '#4f46e5',
  conv2d: '#0891b2',
  sepConv2d: '#0e7490',
  depthwiseConv2d: '#0284c7',
  maxPool2d: '#059669',
  avgPool2d: '#16a34a',
  globalAvgPool: '#15803d',
  dropout: '#d97706',
  batchNorm: '#db2777',
  activation: '#9333ea',
  relu: '#a855f7',
  zeroPad: '#57534e',
  identity: '#78716c',
  zero: '#a8a29e',
  add: '#e11d48',
  concat: '#c2410c',
}

/** Plain-language name of each op type, for legends. */
export const OP_NAMES: Record<ArchOp, string> = {
  input: 'input',
  flatten: 'flatten',
  dense: 'dense',
  conv2d: 'convolution',
  sepConv2d: 'separable convolution',
  depthwiseConv2d: 'depthwise convolution',
  maxPool2d: 'max pooling',
  avgPool2d: 'average pooling',
  globalAvgPool: 'global average pooling',
  dropout: 'dropout',
  batchNorm: 'batch norm',
  activation: 'activation',
  relu: 'ReLU (capped when a maximum is given)',
  zeroPad: 'zero padding',
  identity: 'identity',
  zero: 'zero (no connection)',
  add: 'add',
  concat: 'concatenate',
}

/** Colour of a cell/block group box, by kind. */
export const GROUP_COLORS: Record<ArchGroup['kind'], string> = {
  stem: '#cbd5e1',
  block: '#c7d2fe',
  normal: '#bae6fd',
  reduction: '#fed7aa',
  cell: '#bae6fd',
  head: '#e2e8f0',
  backbone: '#bbf7d0',
}

/** A cytoscape node element for one op; `parent` is its group's id when the group is drawn as a box. */
export interface GraphNodeElement {
  group: 'nodes'
  data: { id: string; label: string; op: ArchOp; color: string; output: boolean; parent?: string }
}

/**
 * A cell or block: a cytoscape compound node holding its ops, or (collapsed) one node standing for them.
 * `size` is how many ops it holds.
 */
export interface GraphGroupElement {
  group: 'nodes'
  data: {
    id: string
    label: string
    kind: ArchGroup['kind']
    color: string
    isGroup: true
    collapsed: boolean
    size: number
    output: boolean
  }
}

/** A cytoscape edge element: from `source` to `target`. */
export interface GraphEdgeElement {
  group: 'edges'
  data: { id: string; source: string; target: string }
}

export type GraphElement = GraphNodeElement | GraphGroupElement | GraphEdgeElement

const strideText = (s: number | undefined): string => (s && s > 1 ? ` /${s}` : '')

/** A short human label for one op, e.g. "dense 64 relu", "conv2d 32 3×3 relu", "dropout 0.25". */
export function nodeLabel(node: ArchNode): string {
  switch (node.op) {
    case 'input':
      return 'input'
    case 'flatten':
      return 'flatten'
    case 'dense':
      return `dense ${node.units} ${node.activation}`
    case 'conv2d':
      return `conv2d ${node.filters} ${node.kernelSize}×${node.kernelSize}${strideText(node.strides)} ${node.activation}`
    case 'sepConv2d':
      return `sepconv ${node.filters} ${node.kernelSize}×${node.kernelSize}${strideText(node.strides)} ${node.activation}`
    case 'depthwiseConv2d':
      return `depthwise ${node.kernelSize}×${node.kernelSize}${(node.dilation ?? 1) > 1 ? ` dil ${node.dilation}` : ''}${strideText(node.strides)}`
    case 'maxPool2d':
      return `maxpool ${node.poolSize}×${node.poolSize}${node.strides !== undefined ? strideText(node.strides) : ''}`
    case 'avgPool2d':
      return `avgpool ${node.poolSize}×${node.poolSize}${node.strides !== undefined ? strideText(node.strides) : ''}`
    case 'globalAvgPool':
      return 'global avgpool'
    case 'dropout':
      return `dropout ${node.rate}`
    case 'batchNorm':
      return 'batchnorm'
    case 'activation':
      return node.activation
    case 'relu':
      return node.maxValue === undefined ? 'relu' : `relu ≤ ${node.maxValue}`
    case 'zeroPad':
      return `zero pad ${node.padding.join(' ')}`
    case 'identity':
      return 'identity'
    case 'zero':
      return `zero${strideText(node.strides)}`
    case 'add':
      return '+'
    case 'concat':
      return 'concat'
  }
}

/** Options of architectureToElements: ids of groups to draw as a single node. */
export interface ElementOptions {
  collapsed?: ReadonlySet<string>
}

/**
 * Turns an Architecture into cytoscape elements: one node per op (coloured by op type, labelled for a
 * person) and one edge per [from, to] pair. When the architecture lists groups (cells, blocks), each becomes a
 * compound node holding its ops, or, when its id is in `collapsed`, a single node standing for them (edges are
 * rerouted to it, edges inside it dropped, duplicates merged). Edges naming unknown nodes are dropped rather than
 * crashing the graph view. Pure: same input, same output.
 */
export function architectureToElements(arch: Architecture, opts: ElementOptions = {}): GraphElement[] {
  const ids = new Set(arch.nodes.map((n) => n.id))
  const groups = new Map((arch.groups ?? []).map((g) => [g.id, g]))
  const collapsed = opts.collapsed ?? new Set<string>()
  const groupOf = (n: ArchNode): string | undefined =>
    n.group !== undefined && groups.has(n.group) ? n.group : undefined
  // a node inside a collapsed group is drawn as the group
  const drawnAs = new Map(
    arch.nodes.map((n) => {
      const g = groupOf(n)
      return [n.id, g !== undefined && collapsed.has(g) ? g : n.id]
    }),
  )
  const outputGroup = drawnAs.get(arch.output)
  const members = new Map<string, number>()
  for (const n of arch.nodes) {
    const g = groupOf(n)
    if (g !== undefined) members.set(g, (members.get(g) ?? 0) + 1)
  }
  const groupEls: GraphGroupElement[] = [...groups.values()]
    .filter((g) => members.has(g.id))
    .map((g) => ({
      group: 'nodes',
      data: {
        id: g.id,
        label: g.label,
        kind: g.kind,
        color: GROUP_COLORS[g.kind],
        isGroup: true,
        collapsed: collapsed.has(g.id),
        size: members.get(g.id)!,
        output: outputGroup === g.id,
      },
    }))
  const nodes: GraphNodeElement[] = arch.nodes
    .filter((n) => drawnAs.get(n.id) === n.id)
    .map((n) => {
      const parent = groupOf(n)
      return {
        group: 'nodes',
        data: {
          id: n.id,
          label: nodeLabel(n),
          op: n.op,
          color: OP_COLORS[n.op],
          output: n.id === arch.output,
          ...(parent !== undefined ? { parent } : {}),
        },
      }
    })
  const seen = new Set<string>()
  const edges: GraphEdgeElement[] = []
  arch.edges.forEach(([from, to], i) => {
    if (!ids.has(from) || !ids.has(to)) return
    const source = drawnAs.get(from)!
    const target = drawnAs.get(to)!
    const rerouted = source !== from || target !== to
    if (rerouted && (source === target || seen.has(`${source}->${target}`))) return
    seen.add(`${source}->${target}`)
    edges.push({ group: 'edges', data: { id: `e${i}:${source}->${target}`, source, target } })
  })
  return [...groupEls, ...nodes, ...edges]
}
