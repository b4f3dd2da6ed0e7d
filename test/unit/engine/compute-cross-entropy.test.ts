import { beforeAll, describe, expect, it } from 'vitest'
import { initCompute, tf } from '../../../src/engine/compute/backend'
import { categoricalCrossentropy } from '../../../src/engine/compute/cross-entropy'
import { on, relError, values } from './compute-kernel-helpers'

/**
 * The fused categorical cross-entropy (one kernel forward, one backward on wasm) and Softmax's one-pass
 * gradient, against tfjs-layers' own loss and tfjs's own gradients on the cpu backend.
 */

/** Rows of positive predictions, not normalised, with exact zeros and near-ones so the clip is exercised. */
function predictions(rows: number, classes: number, seed: number): Float32Array {
  const p = values(rows * classes, seed, 1.05)
  p[0] = 0
  p[classes + 1] = 0
  // a row that is one class after normalising: its q lands above 1 - eps, where the clip passes no gradient
  for (let j = 0; j < classes; j++) p[2 * classes + j] = j === 3 ? 1 : 0
  return p
}

/** Soft float targets (label smoothing) or one-hot int32 targets, as tf.oneHot makes them. */
function targets(rows: number, classes: number, seed: number, dtype: 'float32' | 'int32'): tf.Tensor {
  const labels = Array.from(values(rows, seed), (v) => Math.floor(((v + 1) / 2) * classes) % classes)
  labels[2] = 3
  if (dtype === 'int32') return tf.oneHot(tf.tensor1d(labels, 'int32'), classes)
  const smooth = 0.1
  const y = new Float32Array(rows * classes).fill(smooth / classes)
  labels.forEach((l, r) => (y[r * classes + l]! += 1 - smooth))
  return tf.tensor2d(y, [rows, classes])
}

/** On wasm our loss; on cpu tfjs-layers' loss (what the string 'categoricalCrossentropy' compiles to). */
const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
  tf.getBackend() === 'wasm'
    ? categoricalCrossentropy(yTrue, yPred)
    : tf.metrics.categoricalCrossentropy(yTrue, yPred)

async function expectClose(fn: () => tf.Tensor | tf.Tensor[], bound = 1e-5): Promise<void> {
  const wasm = await on('wasm', fn)
  const cpu = await on('cpu', fn)
  for (let i = 0; i < cpu.length; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(bound)
  await tf.setBackend('wasm')
}

describe('fused cross-entropy and softmax gradient match tfjs on the cpu backend', () => {
  beforeAll(async () => {
    delete process.env.NAS_BACKEND
    expect((await initCompute()).name).toBe('wasm')
  })

  it('runs as one kernel forward and one backward on wasm', async () => {
    const p = tf.tensor2d(predictions(4, 5, 1), [4, 5])
    const y = targets(4, 5, 2, 'float32')
    const { kernelNames } = await tf.profile(() => tf.grad((q: tf.Tensor) => loss(y, q).sum())(p))
    expect(kernelNames).toContain('NasCategoricalCrossentropy')
    expect(kernelNames).toContain('NasCategoricalCrossentropyGrad')
    expect(kernelNames).not.toContain('Log')
    tf.dispose([p, y])
  })

  for (const dtype of ['float32', 'int32'] as const) {
    it(`loss and its gradient, ${dtype} targets, with a per-row upstream gradient`, async () => {
      const [rows, classes] = [7, 10]
      const weights = values(rows, 5, 1.5)
      await expectClose(() => {
        const y = targets(rows, classes, 3, dtype)
        const p = tf.tensor2d(predictions(rows, classes, 4), [rows, classes])
        const w = tf.tensor1d(weights)
        const perRow = loss(y, p)
        const dp = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(loss(y, q), w)))(p)
        return [perRow, dp]
      })
    })
  }

  it('a rank-3 prediction keeps one loss per row', async () => {
    await expectClose(() => {
      const p = tf.tensor3d(predictions(6, 4, 6), [2, 3, 4])
      const y = tf.reshape(targets(6, 4, 7, 'float32'), [2, 3, 4])
      return [loss(y, p), tf.grad((q: tf.Tensor) => tf.mean(loss(y, q)))(p)]
    })
  })

  it("softmax's gradient, on the last axis of rank 2 and rank 3", async () => {
    for (const shape of [
      [5, 10],
      [2, 3, 7],
    ]) {
      const n = shape.reduce((a, b) => a * b, 1)
      await expectClose(() => {
        const x = tf.tensor(
          values(n, 8).map((v) => 4 * v),
          shape,
        )
        const w = tf.tensor(values(n, 9), shape)
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), w)))(x)
      })
    }
  })

  it('a dense net trained with the fused loss on wasm follows tfjs-layers on cpu', async () => {
    const [rows, classes] = [16, 10]
    const train = async (backend: 'wasm' | 'cpu'): Promise<Float32Array[]> => {
      await tf.setBackend(backend)
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 8, activation: 'relu', inputShape: [12] }),
          tf.layers.dense({ units: classes, activation: 'softmax' }),
        ],
      })
      // both backends start from the same weights: deterministic values, not the initialisers
      model.layers[0]!.setWeights([tf.tensor2d(values(12 * 8, 11), [12, 8]), tf.zeros([8])])
      model.layers[1]!.setWeights([tf.tensor2d(values(8 * classes, 12), [8, classes]), tf.zeros([classes])])
      // plain SGD: Adam's first steps are about lr * sign(gradient) and would hide a wrong gradient's size
      const optimizer = tf.train.sgd(0.5)
      model.compile({
        optimizer,
        loss: backend === 'wasm' ? categoricalCrossentropy : 'categoricalCrossentropy',
      })
      const x = tf.tensor2d(values(rows * 12, 10), [rows, 12])
      const y = targets(rows, classes, 13, 'float32')
      for (let step = 0; step < 5; step++) await model.trainOnBatch(x, y)
      const out = model.getWeights().map((t) => Float32Array.from(t.dataSync()))
      model.dispose()
      optimizer.dispose()
      tf.dispose([x, y])
      return out
    }
    const wasm = await train('wasm')
    const cpu = await train('cpu')
    await tf.setBackend('wasm')
    expect(wasm).toHaveLength(4)
    // the steps moved the weights: the comparison is not of the starting values
    expect(relError(wasm[2]!, Float32Array.from(values(8 * classes, 12)))).toBeGreaterThan(0.01)
    for (let i = 0; i < cpu.length; i++) expect(relError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4)
  })
})
