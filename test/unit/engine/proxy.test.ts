import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { capCells, proxyArchitecture, scaleWidth } from '../../../src/engine/evaluate/proxy'
import { Rng } from '../../../src/engine/rng'
import { sampleArchitecture } from '../../../src/engine/space'
import { loadPresetSpaces } from '../../../src/engine/space/presets'
import { countParams, validateArchitecture } from '../../../src/engine/space/shapes'

const presets = loadPresetSpaces(path.resolve(__dirname, '../../../resources/presets'))
const preset = (key: string) => presets.find((p) => p.key === key)!.def
const IMG = [28, 28, 1]

const channelsOf = (a: Architecture) =>
  a.nodes.flatMap((n) =>
    n.op === 'conv2d' || n.op === 'sepConv2d' ? [n.filters] : n.op === 'dense' ? [n.units] : [],
  )

describe('model-side proxies', () => {
  it('halves every layer of chain networks (with concat merges and projected shortcuts) into valid smaller nets', () => {
    const rng = new Rng(3)
    for (let i = 0; i < 60; i++) {
      const full = sampleArchitecture(preset('resnet-chain'), rng, IMG, 10)
      const half = scaleWidth(full, 0.5, IMG)
      expect(() => validateArchitecture(half, IMG)).not.toThrow()
      expect(countParams(half, IMG)).toBeLessThan(countParams(full, IMG))
      // the classifier keeps its 10 outputs; the candidate itself is not changed
      const out = half.nodes.find((n) => n.id === half.output)!
      expect(out).toMatchObject({ op: 'dense', units: 10 })
      expect(full.nodes.find((n) => n.id === full.output)).toEqual(out)
    }
  })

  it('scales sequential layers by the factor, rounding, never below 1', () => {
    const rng = new Rng(1)
    const full = sampleArchitecture(preset('small-cnn'), rng, IMG, 10)
    const quarter = scaleWidth(full, 0.25, IMG)
    const before = channelsOf(full).slice(0, -1)
    const after = channelsOf(quarter).slice(0, -1)
    expect(after).toEqual(before.map((c) => Math.max(1, Math.round(c * 0.25))))
    expect(scaleWidth(full, 1, IMG)).toBe(full)
  })

  it('caps the cells per stage of NAS-Bench-201 networks', () => {
    const def = { ...preset('nas-bench-201'), cellsPerStage: [3] } as ReturnType<typeof preset>
    const arch = sampleArchitecture(def, new Rng(2), [16, 16, 3], 10)
    const one = capCells(arch, 1, def, [16, 16, 3], 10)
    expect(one.genotype).toMatchObject({ family: 'nb201', cellsPerStage: 1 })
    expect(countParams(one, [16, 16, 3])).toBeLessThan(countParams(arch, [16, 16, 3]))
    expect(capCells(arch, 5, def, [16, 16, 3], 10)).toBe(arch)
    const both = proxyArchitecture(
      arch,
      {
        epochs: 1,
        batchSize: 8,
        learningRate: 0.01,
        validationFraction: 0.1,
        maxCellsPerStage: 1,
        widthMultiplier: 0.5,
      },
      def,
      [16, 16, 3],
      10,
    )
    expect(countParams(both, [16, 16, 3])).toBeLessThan(countParams(one, [16, 16, 3]))
    expect(() => validateArchitecture(both, [16, 16, 3])).not.toThrow()
  })
})
