import { describe, expect, it } from 'vitest'
import type { Architecture, SearchSpaceDef } from '../../../src/shared'
import { validateArchitecture, validateSpace } from '../../../src/engine/space'

const seq: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 3,
  ops: [
    { op: 'conv2d', filters: [8], kernelSize: [3], activation: ['relu'] },
    { op: 'dense', units: [16], activation: ['relu'] },
  ],
}
const chain: SearchSpaceDef = {
  family: 'chain',
  version: 1,
  stemFilters: [8],
  minBlocks: 1,
  maxBlocks: 3,
  filters: [8],
  strides: [1, 2],
  branches: [1, 2],
  merge: ['add'],
  skip: ['add'],
  batchNorm: [true],
  ops: [{ op: 'conv2d', kernelSize: [3], activation: ['relu'] }],
}
const cell: SearchSpaceDef = {
  family: 'cell',
  version: 1,
  nodes: 4,
  ops: ['skip_connect', 'sep_conv_3x3'],
  initChannels: [8],
  cellsPerStage: [1],
  stages: 3,
  stemMultiplier: 3,
  concat: 'all',
}
const nb201: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: ['none', 'nor_conv_3x3'],
  channels: [16],
  cellsPerStage: [5],
}
const mlp: SearchSpaceDef = {
  family: 'mlp',
  version: 1,
  minBlocks: 1,
  maxBlocks: 2,
  units: [16],
  activation: ['relu'],
  dropout: [0],
  batchNorm: [false],
}

const bad = (def: unknown): SearchSpaceDef => def as SearchSpaceDef

/** [what is wrong, the space, input shape or undefined, text the error must contain] */
const SPACES: Array<[string, SearchSpaceDef, number[] | undefined, string | RegExp]> = [
  ['unknown family', bad({ ...seq, family: 'transformer' }), undefined, 'at family'],
  ['missing version', bad({ ...mlp, version: undefined }), undefined, 'at version'],
  ['future version', bad({ ...cell, version: 2 }), undefined, 'at version'],
  ['sequential: no ops', { ...seq, ops: [] }, undefined, 'at ops'],
  ['sequential: layer range inverted', { ...seq, minLayers: 4, maxLayers: 2 }, undefined, 'at maxLayers'],
  [
    'sequential: empty choice',
    { ...seq, ops: [{ op: 'dense', units: [], activation: ['relu'] }] },
    undefined,
    'at ops.0.units',
  ],
  [
    'sequential: zero stride',
    { ...seq, ops: [{ op: 'conv2d', filters: [8], kernelSize: [3], activation: ['relu'], strides: [0] }] },
    undefined,
    'at ops.0.strides.0',
  ],
  [
    'sequential: only pooling',
    { ...seq, ops: [{ op: 'maxPool2d', poolSize: [2] }] },
    undefined,
    'only maxPool2d',
  ],
  ['sequential: op twice', { ...seq, ops: [seq.ops[1]!, seq.ops[1]!] }, undefined, "op 'dense' twice"],
  ['sequential: image ops on a table', { ...seq, ops: [seq.ops[0]!] }, [784], '[784]'],
  [
    'sequential: pools larger than the image',
    { ...seq, ops: [seq.ops[0]!, { op: 'avgPool2d', poolSize: [8] }] },
    [4, 4, 1],
    'larger than the 4x4 input',
  ],
  ['chain: block range inverted', { ...chain, minBlocks: 3, maxBlocks: 1 }, undefined, 'at maxBlocks'],
  ['chain: unknown merge', bad({ ...chain, merge: ['multiply'] }), undefined, 'at merge.0'],
  ['chain: empty filters', { ...chain, filters: [] }, undefined, 'at filters'],
  ['chain: identity only', { ...chain, ops: [{ op: 'identity' }] }, undefined, "'identity' alone"],
  ['chain: branch count 0', { ...chain, branches: [0] }, undefined, 'at branches.0'],
  ['chain: table input', chain, [10], 'needs image data'],
  ['cell: no intermediate nodes', { ...cell, nodes: 0 }, undefined, 'at nodes'],
  ['cell: unknown op', bad({ ...cell, ops: ['sep_conv_3x3', 'lstm'] }), undefined, 'at ops.1'],
  ['cell: only none', { ...cell, ops: ['none'] }, undefined, "only 'none'"],
  ['cell: op twice', { ...cell, ops: ['skip_connect', 'skip_connect'] }, undefined, 'at ops.1'],
  ['cell: no initial channels', { ...cell, initChannels: [] }, undefined, 'at initChannels'],
  ['cell: no stages', { ...cell, stages: 0 }, undefined, 'at stages'],
  ['cell: concat mode', bad({ ...cell, concat: 'some' }), undefined, 'at concat'],
  ['nb201: empty op list', { ...nb201, ops: [] }, undefined, 'at ops'],
  ['nb201: DARTS op', bad({ ...nb201, ops: ['sep_conv_3x3'] }), undefined, 'at ops.0'],
  ['nb201: no cells per stage', { ...nb201, cellsPerStage: [0] }, undefined, 'at cellsPerStage.0'],
  ['nb201: table input', nb201, [12], 'needs image data'],
  ['mlp: dropout of 1', { ...mlp, dropout: [1] }, undefined, 'at dropout.0'],
  ['mlp: units listed twice', { ...mlp, units: [16, 16] }, undefined, 'at units.1'],
  ['mlp: no activations', { ...mlp, activation: [] }, undefined, 'at activation'],
]

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected an error')
}

describe('invalid search spaces', () => {
  it('the table has at least 15 cases', () => expect(SPACES.length).toBeGreaterThanOrEqual(15))

  it.each(SPACES)('%s', (_what, def, inputShape, expected) => {
    const err = errorOf(() => validateSpace(def, inputShape))
    expect(err.code).toBe('invalid_space')
    expect(err.message).toContain(expected)
  })

  it('accepts the table bases', () => {
    for (const def of [seq, chain, cell, nb201, mlp])
      expect(() => validateSpace(def, [8, 8, 1])).not.toThrow()
  })
})

const ok: Architecture = {
  version: 1,
  nodes: [
    { id: 'in', op: 'input' },
    { id: 'c', op: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
    { id: 'p', op: 'maxPool2d', poolSize: 2 },
    { id: 'sum', op: 'add' },
    { id: 'g', op: 'globalAvgPool' },
    { id: 'out', op: 'dense', units: 3, activation: 'softmax' },
  ],
  edges: [
    ['in', 'c'],
    ['c', 'p'],
    ['p', 'sum'],
    ['p', 'sum'],
    ['sum', 'g'],
    ['g', 'out'],
  ],
  output: 'out',
}
const withNodes = (nodes: Architecture['nodes'], edges = ok.edges): Architecture => ({ ...ok, nodes, edges })

/** [what is wrong, the architecture, text the error must contain] */
const ARCHS: Array<[string, Architecture, string]> = [
  ['a cycle', { ...ok, edges: [...ok.edges, ['sum', 'c']] }, 'cycle through node'],
  ['a dangling edge', { ...ok, edges: [...ok.edges, ['ghost', 'sum']] }, "node 'ghost'"],
  ['duplicate ids', withNodes([...ok.nodes, { id: 'c', op: 'batchNorm' }]), "two nodes with id 'c'"],
  ['unknown output', { ...ok, output: 'nowhere' }, "output 'nowhere'"],
  [
    'a node nothing feeds',
    withNodes([...ok.nodes, { id: 'lost', op: 'batchNorm' }], [...ok.edges, ['lost', 'sum']]),
    'batchNorm (lost) is dangling',
  ],
  [
    'a node that leads nowhere',
    withNodes([...ok.nodes, { id: 'spare', op: 'batchNorm' }], [...ok.edges, ['c', 'spare']]),
    'batchNorm (spare) does not lead to the output',
  ],
  [
    'add of different shapes',
    {
      ...ok,
      edges: ok.edges
        .map(([f, t]) => (f === 'p' && t === 'sum' ? ['p', 'sum'] : [f, t]))
        .concat([['c', 'sum']]) as Architecture['edges'],
    },
    'add (sum) joins inputs of different shapes',
  ],
  [
    'a merge with one input',
    { ...ok, edges: ok.edges.filter((_, i) => i !== 3) },
    'a merge needs at least 2',
  ],
  [
    'dense on an image',
    withNodes(
      ok.nodes.filter((n) => n.id !== 'g'),
      [...ok.edges.slice(0, 4), ['sum', 'out']],
    ),
    'dense (out) needs a flat input, got [4,4,4]: add a flatten',
  ],
  [
    'a pool larger than the map',
    withNodes(ok.nodes.map((n) => (n.id === 'p' ? { id: 'p', op: 'maxPool2d', poolSize: 16 } : n))),
    'maxPool2d (p) with pool 16 cannot shrink a 8x8 map',
  ],
]

describe('invalid architectures', () => {
  it('accepts the base', () => expect(() => validateArchitecture(ok, [8, 8, 1])).not.toThrow())

  it.each(ARCHS)('%s', (_what, arch, expected) => {
    const err = errorOf(() => validateArchitecture(arch, [8, 8, 1]))
    expect(err.code).toBe('invalid_space')
    expect(err.message).toContain(expected)
  })

  it('spatial ops on flat input name the node', () => {
    expect(errorOf(() => validateArchitecture(ok, [64])).message).toContain(
      'conv2d (c) needs a [height, width',
    )
  })
})
