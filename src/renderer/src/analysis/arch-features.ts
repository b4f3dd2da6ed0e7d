import type { Architecture, ArchOp } from '@shared/domain'

/**
 * Numeric features of an architecture's choices, for parallel coordinates: the genotype's numbers where
 * there is one (channels, cells per stage, blocks, mean units / filters …), plus op counts of the graph.
 * Every value is a plain number; absent features are left out.
 */
export function archFeatures(arch: Architecture): Record<string, number> {
  const out: Record<string, number> = {}
  const count = (ops: ArchOp[]) => arch.nodes.filter((n) => ops.includes(n.op)).length
  const g = arch.genotype
  if (g?.family === 'chain') {
    out['blocks'] = g.blocks.length
    out['stem filters'] = g.stemFilters
    out['mean filters'] = mean(g.blocks.map((b) => b.filters))
    out['branches'] = mean(g.blocks.map((b) => b.branches.length))
  } else if (g?.family === 'cell' || g?.family === 'nb201') {
    out['channels'] = g.channels
    out['cells per stage'] = g.cellsPerStage
  } else if (g?.family === 'mlp') {
    out['blocks'] = g.blocks.length
    out['mean units'] = mean(g.blocks.map((b) => b.units))
    out['mean dropout'] = mean(g.blocks.map((b) => b.dropout))
  } else {
    const layers = arch.nodes.filter((n) => n.op !== 'input' && n.id !== arch.output && n.op !== 'flatten')
    out['layers'] = layers.length
    const units = arch.nodes.flatMap((n) => (n.op === 'dense' && n.id !== arch.output ? [n.units] : []))
    const filters = arch.nodes.flatMap((n) => (n.op === 'conv2d' || n.op === 'sepConv2d' ? [n.filters] : []))
    if (units.length) out['mean units'] = mean(units)
    if (filters.length) out['mean filters'] = mean(filters)
  }
  out['convolutions'] = count(['conv2d', 'sepConv2d', 'depthwiseConv2d'])
  out['poolings'] = count(['maxPool2d', 'avgPool2d'])
  return out
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)
