import { describe, expect, it } from 'vitest'
import type { SearchSpaceDef } from '../../../src/shared'
import { NB201_OPS } from '../../../src/shared'
import { SAMPLES, checkSpace } from './space-property-helpers'

const space: SearchSpaceDef = {
  family: 'nb201',
  version: 1,
  ops: [...NB201_OPS],
  channels: [2, 4],
  cellsPerStage: [1, 2],
}

describe('NAS-Bench-201 space properties', () => {
  it(`${SAMPLES} samples validate, build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(space, [8, 8, 1], 6)
    expect(hashes.size).toBeGreaterThan(SAMPLES / 4)
  })
})
