import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { SAMPLES, checkSpace } from './space-property-helpers'

const space: SearchSpaceDef = {
  family: 'mlp',
  version: 1,
  minBlocks: 1,
  maxBlocks: 4,
  units: [3, 8, 16],
  activation: ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'linear'],
  dropout: [0, 0.2],
  batchNorm: [false, true],
}

describe('MLP space properties', () => {
  it(`${SAMPLES} samples validate, build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(space, [6], 7)
    expect(hashes.size).toBeGreaterThan(SAMPLES / 2)
  })

  it('flattens image input', async () => {
    await checkSpace({ ...space, maxBlocks: 2 }, [4, 4, 1], 8)
  })
})
