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

describe('cells and new ops', () => {
  const cellArch: Architecture = {
    version: 1,
    nodes: [
      { id: 'in', op: 'input' },
      { id: 'c1', op: 'sepConv2d', filters: 8, kernelSize: 3, strides: 2, activation: 'relu', group: 'g0' },
      { id: 'c2', op: 'depthwiseConv2d', kernelSize: 3, dilation: 2, activation: 'linear', group: 'g0' },
      { id: 'sum', op: 'add', group: 'g0' },
      { id: 'gap', op: 'globalAvgPool' },
      { id: 'out', op: 'dense', units: 3, activation: 'softmax' },
    ],
    edges: [
      ['in', 'c1'],
      ['c1', 'c2'],
      ['c1', 'sum'],
      ['c2', 'sum'],
      ['sum', 'gap'],
      ['gap', 'out'],
    ],
    output: 'out',
    groups: [{ id: 'g0', label: 'normal cell 1', kind: 'normal' }],
  }

  it('labels and colours every op', () => {
    expect(
      nodeLabel({ id: 'a', op: 'sepConv2d', filters: 8, kernelSize: 3, strides: 2, activation: 'relu' }),
    ).toBe('sepconv 8 3×3 /2 relu')
    expect(
      nodeLabel({ id: 'a', op: 'depthwiseConv2d', kernelSize: 5, dilation: 2, activation: 'linear' }),
    ).toBe('depthwise 5×5 dil 2')
    expect(nodeLabel({ id: 'a', op: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' })).toBe(
      'avgpool 3×3',
    )
    expect(nodeLabel({ id: 'a', op: 'zero' })).toBe('zero')
    expect(nodeLabel({ id: 'a', op: 'concat' })).toBe('concat')
    for (const color of Object.values(OP_COLORS)) expect(color).toMatch(/^#[0-9a-f]{6}$/)
  })

  it('draws a group as a compound node holding its ops', () => {
    const els = architectureToElements(cellArch)
    const group = els.find((e) => e.data.id === 'g0')!
    expect(group.data).toMatchObject({ isGroup: true, label: 'normal cell 1', collapsed: false, size: 3 })
    const nodes = nodesOf(els).filter((n) => !('isGroup' in n.data))
    expect(nodes.filter((n) => n.data.parent === 'g0').map((n) => n.data.id)).toEqual(['c1', 'c2', 'sum'])
    expect(edgesOf(els)).toHaveLength(6)
  })

  it('collapses a group into one node and reroutes its edges', () => {
    const els = architectureToElements(cellArch, { collapsed: new Set(['g0']) })
    expect(nodesOf(els).map((n) => n.data.id)).toEqual(['g0', 'in', 'gap', 'out'])
    expect(edgesOf(els).map((e) => [e.data.source, e.data.target])).toEqual([
      ['in', 'g0'],
      ['g0', 'gap'],
      ['gap', 'out'],
    ])
  })
})
