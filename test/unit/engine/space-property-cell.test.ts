import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { CELL_OPS } from '../../../src/shared'
import { SAMPLES, checkSpace } from './space-property-helpers'

/** Every cell op, tiny channels and one cell per stage so 200 builds stay fast; NASNet-style output here. */
const space: SearchSpaceDef = {
  family: 'cell',
  version: 1,
  nodes: 3,
  ops: [...CELL_OPS],
  initChannels: [2, 3],
  cellsPerStage: [1],
  stages: 2,
  stemMultiplier: 2,
  concat: 'unused',
}

describe('cell space properties', () => {
  it(`${SAMPLES} samples validate, build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(space, [8, 8, 1], 4)
    expect(hashes.size).toBeGreaterThan(SAMPLES / 2)
  })

  it('DARTS-style output (all nodes concatenated), three stages, on an odd-sized 7x7x3 input', async () => {
    const darts: SearchSpaceDef = { ...space, nodes: 4, concat: 'all', stages: 3, cellsPerStage: [1, 2] }
    await checkSpace(darts, [7, 7, 3], 5)
  })
})
