import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { SAMPLES, checkSpace } from './space-property-helpers'

const space: SearchSpaceDef = {
  family: 'chain',
  version: 1,
  stemFilters: [2, 4],
  minBlocks: 1,
  maxBlocks: 4,
  filters: [2, 4, 6],
  strides: [1, 2],
  branches: [1, 2, 3],
  merge: ['add', 'concat'],
  skip: ['none', 'add', 'concat'],
  batchNorm: [true, false],
  ops: [
    { op: 'conv2d', kernelSize: [1, 3], activation: ['relu', 'linear'] },
    { op: 'sepConv2d', kernelSize: [3, 5], activation: ['relu'] },
    { op: 'maxPool2d', poolSize: [2, 3] },
    { op: 'avgPool2d', poolSize: [3] },
    { op: 'identity' },
  ],
}

describe('chain space properties', () => {
  it(`${SAMPLES} samples validate, build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(space, [8, 8, 1], 3)
    expect(hashes.size).toBeGreaterThan(SAMPLES / 2)
  })
})
