import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Architecture } from '../../../src/shared'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { buildModel } from '../../../src/engine/evaluate/build-model'
import { synflow } from '../../../src/engine/evaluate/synflow'
import { Rng } from '../../../src/engine/rng'
import { sampleArchitecture } from '../../../src/engine/space'
import { loadPresetSpaces } from '../../../src/engine/space/presets'

const presets = loadPresetSpaces(path.resolve(__dirname, '../../../resources/presets'))

/** input [4] -> `depth` linear dense layers of 16 units -> dense 3 softmax. */
function deepLinear(depth: number): Architecture {
  const ids = ['in', ...Array.from({ length: depth }, (_, i) => `d${i}`), 'out']
  return {
    version: 1,
    nodes: [
      { id: 'in', op: 'input' },
      ...ids
        .slice(1, -1)
        .map((id) => ({ id, op: 'dense' as const, units: 16, activation: 'linear' as const })),
      { id: 'out', op: 'dense', units: 3, activation: 'softmax' },
    ],
    edges: ids.slice(1).map((id, i) => [ids[i]!, id] as [string, string]),
    output: 'out',
  }
}

describe('synflow on networks whose signal overflows float32', () => {
  beforeAll(async () => {
    await initCompute()
  })

  it('a 120-layer linear chain: log(layers * 1^T |W1|...|Wn| 1), computed in float64 with rescaling', () => {
    const arch = deepLinear(120)
    const model = buildModel(arch, [4], 3)
    // independent: the all-ones signal through |W| layer by layer, renormalised in float64
    let v = [1, 1, 1, 1]
    let logR = 0
    for (const node of arch.nodes.slice(1)) {
      const W = model.getLayer(node.id).getWeights()[0]!.arraySync() as number[][]
      v = W[0]!.map((_, j) => v.reduce((s, vi, i) => s + vi * Math.abs(W[i]![j]!), 0))
      const m = Math.max(...v)
      v = v.map((x) => x / m)
      logR += Math.log(m)
    }
    logR += Math.log(v.reduce((a, b) => a + b, 0))
    // the plain float32 pass cannot hold R
    expect(logR).toBeGreaterThan(Math.log(3.4e38))
    const before = tf.memory().numTensors
    const got = synflow(model, arch, [4])
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
    // each of the 121 kernels contributes exactly R (R is linear in each layer's weights; biases are 0)
    expect(got).toBeCloseTo(Math.log(121) + logR, 3)
  })

  it('the rescaled pass equals the plain one on residual networks with batch norm, pooling and add / concat', () => {
    const space = presets.find((p) => p.key === 'resnet-chain')!.def
    const rng = new Rng(4)
    for (let i = 0; i < 3; i++) {
      const arch = sampleArchitecture(space, rng, [12, 12, 1], 10)
      const a = buildModel(arch, [12, 12, 1], i)
      const b = buildModel(arch, [12, 12, 1], i)
      const plain = synflow(a, arch, [12, 12, 1])
      const rescaled = synflow(b, arch, [12, 12, 1], { alwaysRescale: true })
      a.dispose()
      b.dispose()
      expect(Number.isFinite(plain)).toBe(true)
      expect(Math.abs(rescaled - plain)).toBeLessThan(1e-3 * Math.max(1, Math.abs(plain)))
    }
  })
})
