import { beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { on, relError, size, values } from './compute-kernel-helpers'
import { layerOutputAndGrads } from '../../helpers/layer-grads'

/**
 * Batch normalisation in training runs on wasm as one kernel forward and one backward: its output, the
 * gradients of input, gamma and beta, and the moving mean and variance after three calls against
 * tfjs-layers' own BatchNormalization on the cpu backend.
 */

interface BatchNormCase {
  shape: number[]
  /** Added to every input value: a mean far from zero. */
  offset?: number
  training?: boolean
}

const cases: BatchNormCase[] = [
  // shapes the fused kernels take (channels a multiple of 4, last axis)
  { shape: [4, 6, 6, 8] },
  { shape: [3, 5, 5, 12] },
  { shape: [10, 16] },
  { shape: [2, 7, 7, 4], offset: 100 },
  // tfjs-layers' own call: channels not a multiple of 4, inference (its training call fails for another axis
  // or without a centre, on every backend, so those are left to it)
  { shape: [4, 5, 5, 6] },
  { shape: [4, 3, 3, 8], training: false },
]

/** The layer's output, the gradients of sum(output * u) by input and weights, and the moving averages. */
function batchNormOutputs(c: BatchNormCase): tf.Tensor[] {
  const layer = tf.layers.batchNormalization({ momentum: 0.9 })
  layer.build(c.shape)
  const channels = c.shape.at(-1)!
  const weightValues = (seed: number, shift: number) =>
    tf.tensor1d(values(channels, seed).map((v) => v + shift))
  layer.setWeights([weightValues(1, 1), weightValues(2, 0), weightValues(5, 0), weightValues(6, 2)])
  const x = tf.tensor(
    values(size(c.shape), 3).map((v) => 3 * v + (c.offset ?? 0)),
    c.shape,
  )
  const u = tf.tensor(values(size(c.shape), 4), c.shape)
  return layerOutputAndGrads(layer, x, u, { training: c.training ?? true })
}

describe('fused batch normalisation on wasm matches tfjs-layers on the cpu backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
  })

  it('a batch norm in training runs as one kernel forward and one backward', async () => {
    const { kernelNames } = await tf.profile(() => {
      tf.dispose(batchNormOutputs(cases[0]!))
    })
    expect(kernelNames).toContain('NasBatchNormTrain')
    expect(kernelNames).toContain('NasBatchNormTrainGrad')
    expect(kernelNames).not.toContain('FusedBatchNorm')
    expect(kernelNames).not.toContain('SquaredDifference')
  })

  it('inference keeps tfjs-layers own normalisation with the moving averages', async () => {
    const { kernelNames } = await tf.profile(() => {
      tf.dispose(batchNormOutputs(cases.at(-1)!))
    })
    expect(kernelNames).not.toContain('NasBatchNormTrain')
  })

  for (const c of cases) {
    it(`output, gradients and moving averages: ${JSON.stringify(c)}`, async () => {
      const wasm = await on('wasm', () => batchNormOutputs(c))
      const cpu = await on('cpu', () => batchNormOutputs(c))
      await tf.setBackend('wasm')
      // output, dx, gamma, beta, moving mean, moving variance
      expect(wasm).toHaveLength(6)
      for (let i = 0; i < cpu.length; i++)
        expect(relError(wasm[i]!, cpu[i]!), `output ${i}`).toBeLessThan(2e-5)
    })
  }
})
