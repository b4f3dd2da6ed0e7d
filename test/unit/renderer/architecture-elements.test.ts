import { describe, expect, it } from 'vitest'
import {
  OP_COLORS,
  architectureToElements,
  nodeLabel,
  type GraphEdgeElement,
  type GraphNodeElement,
} from '@renderer/graph/architecture-elements'
import type { Architecture } from '@shared/domain'
import { mlp } from './fixtures'

const nodesOf = (els: ReturnType<typeof architectureToElements>) =>
  els.filter((e): e is GraphNodeElement => e.group === 'nodes')
const edgesOf = (els: ReturnType<typeof architectureToElements>) =>
  els.filter((e): e is GraphEdgeElement => e.group === 'edges')

describe('architectureToElements', () => {
  it('makes one node per op and one edge per connection', () => {
    const els = architectureToElements(mlp)
    expect(nodesOf(els).map((n) => n.data.id)).toEqual(['in', 'f', 'd1', 'dr', 'out'])
    expect(edgesOf(els).map((e) => [e.data.source, e.data.target])).toEqual(mlp.edges)
    expect(new Set(els.map((e) => e.data.id)).size).toBe(els.length)
  })

  it('labels ops for a person and colours them by type', () => {
    const nodes = nodesOf(architectureToElements(mlp))
    expect(nodes.map((n) => n.data.label)).toEqual([
      'input',
      'flatten',
      'dense 64 relu',
      'dropout 0.25',
      'dense 10 softmax',
    ])
    expect(nodes[2]!.data.color).toBe(OP_COLORS.dense)
    expect(nodes[3]!.data.color).toBe(OP_COLORS.dropout)
    expect(nodes.filter((n) => n.data.output).map((n) => n.data.id)).toEqual(['out'])
  })

  it('labels convolution, pooling and batch norm', () => {
    expect(nodeLabel({ id: 'c', op: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' })).toBe(
      'conv2d 32 3×3 relu',
    )
    expect(nodeLabel({ id: 'p', op: 'maxPool2d', poolSize: 2 })).toBe('maxpool 2×2')
    expect(nodeLabel({ id: 'b', op: 'batchNorm' })).toBe('batchnorm')
  })

  it('drops edges that name unknown nodes instead of crashing', () => {
    const broken: Architecture = { ...mlp, edges: [...mlp.edges, ['d1', 'ghost']] }
    expect(edgesOf(architectureToElements(broken))).toHaveLength(4)
  })

  it('keeps a branch (two edges into one node)', () => {
    const branched: Architecture = { ...mlp, edges: [...mlp.edges, ['f', 'out']] }
    const edges = edgesOf(architectureToElements(branched))
    expect(edges.filter((e) => e.data.target === 'out')).toHaveLength(2)
  })
})
