import { beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { on, relError, values } from './compute-kernel-helpers'
import { layerOutputAndGrads } from '../../helpers/layer-grads'

/**
 * Dense layers on wasm run as one fused kernel with one gradient node: their outputs and the gradients of
 * input, weight and bias against tfjs-layers' own Dense on the cpu backend.
 */

interface DenseCase {
  rows: number
  inDim: number
  units: number
  activation: 'relu' | 'linear' | 'softmax' | 'tanh'
  useBias?: boolean
  /** Input of rank 3 ([2, rows / 2, inDim]), which tfjs-layers' own call handles. */
  rank3?: boolean
}

const cases: DenseCase[] = [
  // shapes our SIMD product takes (rows a multiple of 4, units of 8)
  { rows: 8, inDim: 12, units: 16, activation: 'relu' },
  { rows: 4, inDim: 20, units: 8, activation: 'linear' },
  // shapes that go to wasm's own kernels
  { rows: 5, inDim: 7, units: 10, activation: 'softmax' },
  { rows: 6, inDim: 9, units: 3, activation: 'relu' },
  { rows: 4, inDim: 6, units: 8, activation: 'tanh' },
  // not fused: no bias, rank 3
  { rows: 4, inDim: 6, units: 8, activation: 'relu', useBias: false },
  { rows: 6, inDim: 5, units: 8, activation: 'relu', rank3: true },
]

/** The layer's output and the gradients of sum(output * u) by input, weight and (when there is one) bias. */
function denseOutputs(c: DenseCase): tf.Tensor[] {
  const useBias = c.useBias ?? true
  const layer = tf.layers.dense({ units: c.units, activation: c.activation, useBias })
  const xShape = c.rank3 ? [2, c.rows / 2, c.inDim] : [c.rows, c.inDim]
  layer.build(xShape)
  layer.setWeights([
    tf.tensor2d(values(c.inDim * c.units, 1), [c.inDim, c.units]),
    ...(useBias ? [tf.tensor1d(values(c.units, 2))] : []),
  ])
  const x = tf.tensor(values(c.rows * c.inDim, 3), xShape)
  const u = tf.tensor(values(c.rows * c.units, 4), [...xShape.slice(0, -1), c.units])
  return layerOutputAndGrads(layer, x, u)
}

describe('fused Dense on wasm matches tfjs-layers on the cpu backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
  })

  it('a Dense layer with a bias runs as one kernel forward, one per gradient backward', async () => {
    const { kernelNames } = await tf.profile(() => {
      tf.dispose(denseOutputs(cases[0]!))
    })
    expect(kernelNames).toContain('NasDense')
    expect(kernelNames).toContain('NasDenseGradInput')
    expect(kernelNames).toContain('NasDenseGradWeight')
    expect(kernelNames).not.toContain('Relu')
    expect(kernelNames).not.toContain('Add')
  })

  for (const c of cases) {
    it(`output and gradients: ${JSON.stringify(c)}`, async () => {
      const wasm = await on('wasm', () => denseOutputs(c))
      const cpu = await on('cpu', () => denseOutputs(c))
      await tf.setBackend('wasm')
      expect(wasm).toHaveLength((c.useBias ?? true) ? 4 : 3)
      for (let i = 0; i < cpu.length; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5)
    })
  }
})
