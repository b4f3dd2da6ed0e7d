import { describe, expect, it } from 'vitest'
import type { Architecture, SearchSpaceDef, SequentialSpace } from '../../../src/shared'
import { Rng } from '../../../src/engine/rng'
import {
  mutateArchitecture,
  sampleArchitecture,
  spaceSizeInfo,
  validateSpace,
} from '../../../src/engine/space'
import { SAMPLES, checkSpace, invalidSpaceMessage } from './space-property-helpers'

/** An ordered space as the designer saves it: conv x1-2, then a max pool x0-1, then dense x1. */
const ordered: SequentialSpace = {
  family: 'sequential',
  version: 1,
  minLayers: 2,
  maxLayers: 4,
  ops: [
    { op: 'conv2d', filters: [2, 4], kernelSize: [3], activation: ['relu'] },
    { op: 'maxPool2d', poolSize: [2] },
    { op: 'dense', units: [4, 8], activation: ['relu'] },
  ],
  slots: [
    { ops: [{ op: 'conv2d', filters: [2, 4], kernelSize: [3], activation: ['relu'] }], min: 1, max: 2 },
    { ops: [{ op: 'maxPool2d', poolSize: [2] }], min: 0, max: 1 },
    { ops: [{ op: 'dense', units: [4, 8], activation: ['relu'] }], min: 1, max: 1 },
  ],
}

/** The body's ops in chain order (input, flatten and the softmax head left out). */
const body = (a: Architecture): string[] =>
  a.nodes.filter((n) => n.id !== a.output && n.op !== 'input' && n.op !== 'flatten').map((n) => n.op)

/** True when `ops` is conv{1,2} pool{0,1} dense{1}, in that order. */
const inOrder = (ops: string[]): boolean => /^(conv2d,){1,2}(maxPool2d,)?dense$/.test(ops.join(','))

describe('ordered sequential space (slots)', () => {
  it('samples and mutations keep the slot order and ranges, and reach every count', () => {
    const rng = new Rng(3)
    const seen = new Set<string>()
    for (let i = 0; i < 300; i++) {
      const a = sampleArchitecture(ordered, rng, [8, 8, 1], 3)
      expect(inOrder(body(a)), body(a).join(',')).toBe(true)
      seen.add(body(a).join(','))
      const m = mutateArchitecture(ordered, a, rng, [8, 8, 1], 3)
      expect(inOrder(body(m)), `mutated to ${body(m).join(',')}`).toBe(true)
    }
    // 2 conv counts x pool or not: all 4 shapes appear
    expect(seen.size).toBe(4)
  })

  it('an unordered space with the same ops does put layers out of that order', () => {
    const rng = new Rng(3)
    const free: SearchSpaceDef = { ...ordered, slots: undefined }
    let outOfOrder = 0
    for (let i = 0; i < 200; i++)
      if (!inOrder(body(sampleArchitecture(free, rng, [8, 8, 1], 3)))) outOfOrder++
    expect(outOfOrder).toBeGreaterThan(20)
  })

  it('size is the product over slots of the per-slot counts', () => {
    // conv: 2 filters -> 2 + 2^2 = 6; pool: 1 + 1 = 2; dense: 2 units -> 2
    expect(spaceSizeInfo(ordered).count).toBe(24)
  })

  it('rejects slots that do not match the ops or the layer sums, naming the slot', () => {
    expect(() => validateSpace(ordered, [8, 8, 1])).not.toThrow()
    expect(invalidSpaceMessage(() => validateSpace({ ...ordered, maxLayers: 3 }))).toContain(
      "slots' sums (2/4)",
    )
    const badValue = {
      ...ordered,
      slots: [
        { ops: [{ op: 'dense' as const, units: [99], activation: ['relu' as const] }], min: 1, max: 1 },
      ],
      minLayers: 1,
      maxLayers: 1,
    }
    expect(invalidSpaceMessage(() => validateSpace(badValue))).toContain('Layer slot 1: dense units 99')
    const badOp = {
      ...ordered,
      slots: [{ ops: [{ op: 'dropout' as const, rate: [0.1] }], min: 1, max: 1 }],
      minLayers: 1,
      maxLayers: 1,
    }
    expect(invalidSpaceMessage(() => validateSpace(badOp))).toContain("Layer slot 1 uses op 'dropout'")
    expect(
      invalidSpaceMessage(() =>
        sampleArchitecture(
          {
            ...ordered,
            slots: [ordered.slots![2]!, ordered.slots![0]!],
            minLayers: 2,
            maxLayers: 3,
          },
          new Rng(1),
          [8, 8, 1],
          3,
        ),
      ),
    ).toContain('layer slot 2')
  })

  it(`${SAMPLES} samples build with exact params, train a step and mutate`, async () => {
    const hashes = await checkSpace(ordered, [8, 8, 1], 5)
    expect(hashes.size).toBeGreaterThan(3)
  })
})
