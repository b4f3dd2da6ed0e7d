import type { ArchNode, ArchOp, Architecture } from '@shared/domain'

/** Fill colour per op type (also used for the legend); chosen to read on light and dark backgrounds. */
export const OP_COLORS: Record<ArchOp, string> = {
  input: '#64748b',
  flatten: '#94a3b8',
  dense: '#4f46e5',
  conv2d: '#0891b2',
  maxPool2d: '#059669',
  dropout: '#d97706',
  batchNorm: '#db2777',
}

/** Plain-language name of each op type, for legends. */
export const OP_NAMES: Record<ArchOp, string> = {
  input: 'input',
  flatten: 'flatten',
  dense: 'dense',
  conv2d: 'convolution',
  maxPool2d: 'max pooling',
  dropout: 'dropout',
  batchNorm: 'batch norm',
}

/** A cytoscape node element as the adapter builds it (plain data, no cytoscape import needed). */
export interface GraphNodeElement {
  group: 'nodes'
  data: { id: string; label: string; op: ArchOp; color: string; output: boolean }
}

/** A cytoscape edge element: from `source` to `target`. */
export interface GraphEdgeElement {
  group: 'edges'
  data: { id: string; source: string; target: string }
}

export type GraphElement = GraphNodeElement | GraphEdgeElement

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
      return `conv2d ${node.filters} ${node.kernelSize}×${node.kernelSize} ${node.activation}`
    case 'maxPool2d':
      return `maxpool ${node.poolSize}×${node.poolSize}`
    case 'dropout':
      return `dropout ${node.rate}`
    case 'batchNorm':
      return 'batchnorm'
  }
}

/**
 * Turns an Architecture into cytoscape elements: one node per op (coloured by op type, labelled for a
 * person) and one edge per [from, to] pair. Edges naming unknown nodes are dropped rather than crashing the
 * graph view. Pure: same input, same output.
 */
export function architectureToElements(arch: Architecture): GraphElement[] {
  const ids = new Set(arch.nodes.map((n) => n.id))
  const nodes: GraphNodeElement[] = arch.nodes.map((n) => ({
    group: 'nodes',
    data: { id: n.id, label: nodeLabel(n), op: n.op, color: OP_COLORS[n.op], output: n.id === arch.output },
  }))
  const edges: GraphEdgeElement[] = arch.edges
    .filter(([from, to]) => ids.has(from) && ids.has(to))
    .map(([from, to], i) => ({
      group: 'edges',
      data: { id: `e${i}:${from}->${to}`, source: from, target: to },
    }))
  return [...nodes, ...edges]
}
