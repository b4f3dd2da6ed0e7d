import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Genotype } from '../../../src/shared'
import { createRng } from '../../../src/engine/rng'
import { mutateArchitecture, sampleArchitecture } from '../../../src/engine/space'
import { buildChain } from '../../../src/engine/space/chain'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { countParams } from '../../../src/engine/space/shapes'

const PRESETS = path.resolve(__dirname, '../../../resources/presets')
const tiny = loadPresetSpaces(PRESETS).find((p) => p.key === 'tiny-cnn')!
const LIMIT = 100_000
/** Grey and colour images, 10 and 100 classes: the head's weights grow with the classes. */
const DATA: Array<[number[], number]> = [
  [[28, 28, 1], 10],
  [[32, 32, 3], 10],
  [[32, 32, 3], 100],
]

describe('the Tiny CNN preset keeps its name: every network has fewer than 100k weights', () => {
  it('promises the bound in its name', () => {
    expect(tiny.name).toContain('under 100k weights')
  })

  it('holds for many drawn candidates and for evolution walking away from them', () => {
    const def = tiny.def
    for (const [shape, classes] of DATA) {
      const rng = createRng(3)
      let largest = 0
      for (let i = 0; i < 300; i++) {
        let arch = sampleArchitecture(def, rng, shape, classes)
        largest = Math.max(largest, countParams(arch, shape, classes))
        // a mutation walk, as evolution takes it, may drift towards the widest and deepest networks
        for (let step = 0; step < 5; step++) {
          arch = mutateArchitecture(def, arch, rng, shape, classes)
          largest = Math.max(largest, countParams(arch, shape, classes))
        }
      }
      expect(largest, `${shape.join('x')}, ${classes} classes`).toBeLessThan(LIMIT)
      // the draws reach well into the space, so the bound is not met only because they stayed small
      expect(largest).toBeGreaterThan(LIMIT / 3)
    }
  })

  it('holds for the widest, deepest network the choices allow', () => {
    const def = tiny.def
    if (def.family !== 'chain') throw new Error('tiny-cnn is a chain space')
    const widest = Math.max(...def.filters)
    for (const [shape, classes] of DATA) {
      for (const op of def.ops) {
        if (op.op !== 'conv2d' && op.op !== 'sepConv2d') continue
        const geno: Extract<Genotype, { family: 'chain' }> = {
          family: 'chain',
          stemFilters: Math.max(...def.stemFilters),
          // stride 2 in every block gives each shortcut its own 1x1 projection: the most weights
          blocks: Array.from({ length: def.maxBlocks }, () => ({
            filters: widest,
            strides: Math.max(...def.strides),
            merge: def.merge[0]!,
            skip: def.skip.includes('add') ? 'add' : def.skip[0]!,
            batchNorm: true,
            branches: [{ op: op.op, kernelSize: Math.max(...op.kernelSize), activation: op.activation[0]! }],
          })),
        }
        const params = countParams(buildChain(geno, shape, classes), shape, classes)
        expect(params, `${op.op}, ${shape.join('x')}, ${classes} classes`).toBeLessThan(LIMIT)
      }
    }
  })
})
