import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { SAMPLES, checkSpace } from './space-property-helpers'

const space: SearchSpaceDef = {
  family: 'sequential',
  version: 1,
  minLayers: 1,
  maxLayers: 5,
  ops: [
    { op: 'conv2d', filters: [2, 4], kernelSize: [1, 3], activation: ['relu', 'tanh'], strides: [1, 2] },
    { op: 'sepConv2d', filters: [2, 4], kernelSize: [3], activation: ['relu'], strides: [1, 2] },
    { op: 'maxPool2d', poolSize: [2, 3] },
    { op: 'avgPool2d', poolSize: [2] },
    { op: 'globalAvgPool' },
    { op: 'dense', units: [4, 8], activation: ['relu', 'elu'] },
    { op: 'dropout', rate: [0.1] },
    { op: 'batchNorm' },
  ],
}

describe('sequential space properties', () => {
  it(`${SAMPLES} samples validate, build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(space, [8, 8, 1], 1)
    expect(hashes.size).toBeGreaterThan(SAMPLES / 2)
  })

  it('also on flat (table) input', async () => {
    const flat: SearchSpaceDef = {
      ...space,
      ops: space.ops.filter((o) => ['dense', 'dropout', 'batchNorm'].includes(o.op)),
    }
    await checkSpace(flat, [5], 2)
  })
})
